// Finding bytes in bytes with libc's memmem (through CPOSIX): a preprocessed source or a compiler's messages
// can be megabytes, searched per job.

import CPOSIX

public enum ByteSearch {
    /// Whether `needle` occurs in `haystack` (an empty needle always does).
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { text in
            needle.withUnsafeBytes {
                sshcc_contains(text.baseAddress, UInt(text.count), $0.baseAddress, UInt($0.count)) != 0
            }
        }
    }
}
