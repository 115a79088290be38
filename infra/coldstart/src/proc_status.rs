//! Peak memory of a child, from `/proc/PID/status`.
//!
//! `VmHWM` is the high-water mark of the process's resident set since its `exec`, kept by the
//! kernel per address space. It is read while the child is still alive (after it answered and
//! asked for the next event), because once it exits the status file loses its `Vm*` lines.
//!
//! Not `ru_maxrss`: `getrusage(RUSAGE_CHILDREN)` is the maximum over every child ever waited
//! for, so it cannot tell runs apart; the per-child figure needs `wait4`, which std does not
//! expose; and when a child is started with `fork` the kernel folds the pre-`exec` copy of the
//! parent's address space into it, so it can report the harness's size, not the function's.

use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemStatus {
    /// Peak resident set size (`VmHWM`), KiB.
    pub vm_hwm_kib: u64,
    /// Resident set size at the moment of reading (`VmRSS`), KiB.
    pub vm_rss_kib: u64,
}

/// `None` when either line is missing or not in the `<number> kB` form, which is what the
/// file of an exited (zombie) process or a kernel thread looks like.
pub fn parse_status(text: &str) -> Option<MemStatus> {
    let mut hwm = None;
    let mut rss = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("VmHWM:") {
            hwm = parse_kib(rest);
        } else if let Some(rest) = line.strip_prefix("VmRSS:") {
            rss = parse_kib(rest);
        }
    }
    Some(MemStatus {
        vm_hwm_kib: hwm?,
        vm_rss_kib: rss?,
    })
}

fn parse_kib(rest: &str) -> Option<u64> {
    let mut parts = rest.split_whitespace();
    let value = parts.next()?.parse().ok()?;
    // The kernel has always printed "kB" (meaning KiB); anything else means we misread.
    match (parts.next(), parts.next()) {
        (Some("kB"), None) => Some(value),
        _ => None,
    }
}

pub fn read(pid: u32) -> io::Result<MemStatus> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)?;
    parse_status(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path} has no VmHWM/VmRSS lines (has the process already exited?)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from a real Linux 6.x /proc/PID/status.
    const LIVE: &str = "Name:\thello-lambda\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n\
        Pid:\t4242\nVmPeak:\t  136692 kB\nVmSize:\t  136692 kB\nVmLck:\t       0 kB\n\
        VmPin:\t       0 kB\nVmHWM:\t    3480 kB\nVmRSS:\t    3312 kB\nRssAnon:\t     640 kB\n\
        RssFile:\t    2672 kB\nThreads:\t3\n";

    #[test]
    fn reads_peak_and_current_rss() {
        assert_eq!(
            parse_status(LIVE),
            Some(MemStatus {
                vm_hwm_kib: 3480,
                vm_rss_kib: 3312
            })
        );
    }

    #[test]
    fn zombie_has_no_memory_lines() {
        let zombie =
            "Name:\thello-lambda\nState:\tZ (zombie)\nTgid:\t4242\nPid:\t4242\nThreads:\t1\n";
        assert_eq!(parse_status(zombie), None);
    }

    #[test]
    fn rejects_unexpected_units_and_garbage() {
        assert_eq!(parse_status("VmHWM:\t 3480 MB\nVmRSS:\t 3312 kB\n"), None);
        assert_eq!(parse_status("VmHWM:\t lots kB\nVmRSS:\t 3312 kB\n"), None);
        assert_eq!(parse_status("VmHWM:\t 3480\nVmRSS:\t 3312 kB\n"), None);
    }

    #[test]
    fn similar_field_names_are_not_confused() {
        // VmPeak/VmSize are virtual sizes and must not be taken for the resident peak.
        let text = "VmPeak:\t 999999 kB\nVmHWM:\t 10 kB\nVmRSS:\t 9 kB\nVmSize:\t 888888 kB\n";
        assert_eq!(
            parse_status(text),
            Some(MemStatus {
                vm_hwm_kib: 10,
                vm_rss_kib: 9
            })
        );
    }

    #[test]
    fn this_kernel_uses_the_expected_format() {
        let own = read(std::process::id()).expect("own /proc status is readable");
        assert!(own.vm_hwm_kib >= own.vm_rss_kib && own.vm_rss_kib > 0);
    }
}
