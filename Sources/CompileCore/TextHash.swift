// A short, stable name for a text (file names, abstract socket names): FNV-1a, 64 bits, in hex. Not a
// defence against texts chosen to collide: where that matters, the named thing holds the whole text.

public enum TextHash {
    public static func fnv1a(_ text: String) -> String { String(fnv1a64(text), radix: 16) }

    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// splitmix64's finish: every input bit moves every output bit (FNV's own bits are poorly mixed for
    /// comparing hashes as scores, or for drawing numbers from a counter).
    public static func mixed(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
