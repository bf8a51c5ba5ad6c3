// Writing to the standard streams by descriptor: unbuffered, and free of C's shared FILE globals. Text that
// came from a peer (the mux daemon, a server, a remote compiler) is neutralised first: a control byte of
// theirs could move the cursor, retitle the window or fake a prompt on the user's terminal.

public enum Console {
    /// Writes `text` to standard error, its control characters made visible (add the newline yourself).
    public static func error(_ text: String) { try? FileDescriptorIO.writeAll(.error, Array(neutralised(text).utf8)) }

    /// Writes raw bytes to standard output or standard error.
    public static func write(_ bytes: [UInt8], to stream: StandardStream) throws(SystemError) {
        try FileDescriptorIO.writeAll(stream, bytes)
    }

    /// Writes a remote compiler's output: as gcc wrote it, but with only its colours (SGR, erase-in-line)
    /// and hyperlinks (OSC 8) left as escape sequences.
    public static func writeCompilerOutput(_ bytes: [UInt8], to stream: StandardStream) throws(SystemError) {
        try FileDescriptorIO.writeAll(stream, neutralised(bytes, keepingColour: true))
    }

    public static func neutralised(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: isControlStart) else { return text }
        return String(decoding: neutralised(bytes, keepingColour: false), as: UTF8.self)
    }

    /// `bytes` with every C0 control but newline and tab, DEL and the C1 controls (UTF-8 C2 80–9F) shown as
    /// `^X` or `\u{XX}`; with `keepingColour`, the colour and hyperlink sequences compilers write are kept.
    public static func neutralised(_ bytes: [UInt8], keepingColour: Bool) -> [UInt8] {
        guard bytes.contains(where: isControlStart) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if keepingColour, byte == 0x1B, let length = keptSequenceLength(bytes, at: index) {
                out += bytes[index..<index + length]
                index += length
            } else if byte == 0xC2, index + 1 < bytes.count, (0x80...0x9F).contains(bytes[index + 1]) {
                out += Array("\\u{\(String(bytes[index + 1], radix: 16))}".utf8)
                index += 2
            } else if byte < 0x20 && byte != 0x0A && byte != 0x09 {
                out += [UInt8(ascii: "^"), byte + 0x40]
                index += 1
            } else if byte == 0x7F {
                out += Array("^?".utf8)
                index += 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    static func isControlStart(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x0A && byte != 0x09) || byte == 0x7F || byte == 0xC2
    }

    /// The length of the SGR (`ESC [ digits;… m`), erase-in-line (`ESC [ K`) or OSC 8 hyperlink
    /// (`ESC ] 8 ; params ; URI` ended by `ESC \` or BEL, printable inside) sequence at `start`, nil otherwise.
    static func keptSequenceLength(_ bytes: [UInt8], at start: Int) -> Int? {
        var index = start + 1
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "[") {
            index += 1
            while index < bytes.count, bytes[index] == UInt8(ascii: ";") || (0x30...0x39).contains(bytes[index]) {
                index += 1
            }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "m") || bytes[index] == UInt8(ascii: "K") else {
                return nil
            }
            return index + 1 - start
        }
        guard bytes[index...].starts(with: Array("]8;".utf8)) else { return nil }
        index += 3
        while index < bytes.count, index - start < 4096 {
            let byte = bytes[index]
            if byte == 0x07 { return index + 1 - start }
            if byte == 0x1B {
                return index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\\") ? index + 2 - start : nil
            }
            guard byte >= 0x20 && byte != 0x7F else { return nil }
            index += 1
        }
        return nil
    }
}
