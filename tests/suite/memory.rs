//! Peak memory of `flowc check` on big inputs, read from the kernel's
//! accounting of the real process (Linux: `VmHWM` in `/proc/PID/status`,
//! polled until the process ends). The bounds sit between what the check
//! used before and after the memory work (benches/README.md), with room for
//! a different machine on either side.

use super::generate;

use std::process::{Command, Stdio};
use std::time::Duration;

/// Peak resident memory of `flowc ARGS`, in bytes.
#[cfg(target_os = "linux")]
fn peak_memory(args: &[&str]) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start flowc");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    loop {
        // `VmHWM` only grows; a reaped or exiting process has none.
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            let high_water = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kib = peak_kib.max(high_water.unwrap_or(0));
        }
        if child.try_wait().expect("wait for flowc").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    peak_kib * 1024
}

#[cfg(target_os = "linux")]
#[test]
fn checking_a_file_of_warnings_as_json_takes_tens_of_times_the_file_not_a_hundred() {
    // 90,000 fields no node fills: 2.9 MB, 90,000 W0305. Before, 110× the
    // file (the JSON document as one tree, the index); after, about 50×.
    let text = generate::never_filled(90_000);
    let path = std::env::temp_dir().join(format!("flowc-memory-{}.flow", std::process::id()));
    std::fs::write(&path, &text).expect("write");
    let peak = peak_memory(&["check", "--format", "json", &path.to_string_lossy()]);
    let _ = std::fs::remove_file(&path);
    let file = text.len() as u64;
    assert!(peak > file, "the measure works: {peak} bytes");
    let megabytes = |bytes: u64| bytes as f64 / 1e6;
    assert!(peak < 75 * file, "peak {:.0} MB for a {:.1} MB file", megabytes(peak), megabytes(file));
}
