//! Sizes as people read them in messages, shared by every crate that names a limit.

/// `16 MiB` for 16777216, `64 KiB` for 65536, else bytes (`1000 bytes`): a size for an error
/// message that names a limit.
///
/// ```
/// assert_eq!(weft_core::size::human_size(8 * 1024 * 1024), "8 MiB");
/// assert_eq!(weft_core::size::human_size(64 * 1024), "64 KiB");
/// assert_eq!(weft_core::size::human_size(1000), "1000 bytes");
/// ```
pub fn human_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}
