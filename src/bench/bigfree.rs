//! The built-in workload of the parallel-free series: map anonymous memory
//! with transparent huge pages off, touch every page, then time the unmap;
//! or hold it in a child process and time that process's exit.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Errors of the workload.
#[derive(Debug, thiserror::Error)]
pub enum BigfreeError {
    #[error("size {0:?} is not a size: use a number with K, M, G or T (1024-based)")]
    BadSize(String),
    #[error("mapping {0} bytes failed: {1}")]
    Map(usize, std::io::Error),
    #[error("the holding child process failed: {0}")]
    Child(String),
}

/// Parse `4G`, `512M`, `1T`, `4096` (bytes).
pub fn parse_size(s: &str) -> Result<usize, BigfreeError> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some(c @ ('K' | 'k' | 'M' | 'm' | 'G' | 'g' | 'T' | 't')) => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                _ => 40,
            };
            (&t[..t.len() - 1], 1usize << shift)
        }
        _ => (t, 1),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| BigfreeError::BadSize(s.to_string()))
}

/// Anonymous memory, mapped and touched page by page.
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    fn new(len: usize) -> Result<Mapping, BigfreeError> {
        // SAFETY: an anonymous private mapping with no address hint; the
        // result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(BigfreeError::Map(len, std::io::Error::last_os_error()));
        }
        // SAFETY: ptr..ptr+len is the mapping made above. Failure to
        // advise only means huge pages may be used; the test still runs.
        unsafe { libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE) };
        // SAFETY: the page size is a positive constant of the system.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let base = ptr.cast::<u8>();
        let mut off = 0;
        while off < len {
            // SAFETY: off < len, inside the writable mapping.
            unsafe { base.add(off).write_volatile(1) };
            off += page;
        }
        Ok(Mapping { ptr, len })
    }

    /// Unmap and return the seconds it took.
    fn unmap(self) -> f64 {
        let start = Instant::now();
        // SAFETY: the mapping is ours and unmapped once; self is consumed.
        unsafe { libc::munmap(self.ptr, self.len) };
        let t = start.elapsed().as_secs_f64();
        std::mem::forget(self);
        t
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours; reached only when unmap() was not.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// Map and touch `bytes`, then time their munmap().
pub fn time_munmap(bytes: usize) -> Result<f64, BigfreeError> {
    Ok(Mapping::new(bytes)?.unmap())
}

/// The child side of [`time_exit`]: map and touch, say so, then wait to be
/// killed.
pub fn hold(bytes: usize) -> Result<(), BigfreeError> {
    let m = Mapping::new(bytes)?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    loop {
        std::thread::park();
        let _ = &m;
    }
}

/// Time the exit of a process holding `bytes` of touched memory: `exe` is
/// run with `hold_args`, must print `ready` when the memory is touched, and
/// is then killed; the time runs from the kill to the reaped exit.
pub fn time_exit(exe: &std::path::Path, hold_args: &[String]) -> Result<f64, BigfreeError> {
    let mut child = Command::new(exe)
        .args(hold_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BigfreeError::Child(e.to_string()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| BigfreeError::Child("no stdout".into()))?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| BigfreeError::Child(e.to_string()))?;
    if line.trim() != "ready" {
        let _ = child.kill();
        let out = child
            .wait_with_output()
            .map_err(|e| BigfreeError::Child(e.to_string()))?;
        return Err(BigfreeError::Child(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let start = Instant::now();
    child
        .kill()
        .map_err(|e| BigfreeError::Child(e.to_string()))?;
    child
        .wait()
        .map_err(|e| BigfreeError::Child(e.to_string()))?;
    Ok(start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("512m").unwrap(), 512 << 20);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0G").is_err());
    }

    #[test]
    fn unmapping_a_small_area_is_timed() {
        let t = time_munmap(8 << 20).unwrap();
        assert!(t >= 0.0);
    }
}
