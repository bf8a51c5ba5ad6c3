// gcc's line markers, `# 12 "dir/file.h" 1 3 4`: the next line's number, the file, and flags (1 entering an
// include, 2 returning from one, 3 a system header, 4 extern "C").

func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

/// `# LINE "file" flags` as gcc -E writes it.
struct LineMarker {
    init?(_ text: ArraySlice<UInt8>) { self.init(Array(text)) }

    var text: [UInt8]
    var line: Int
    /// The file name, unescaped: as annotations spell it.
    var path: [UInt8]
    var enters: Bool
    var leaves: Bool
    /// " 3" or " 3 4": the system-header flags.
    var systemFlags: [UInt8]
    /// The file name as written, quotes included.
    var quotedPath: [UInt8]

    init?(_ text: [UInt8]) {
        guard text.count > 2, text[0] == UInt8(ascii: "#"), text[1] == 0x20 else { return nil }
        var index = 2
        var line = 0
        while index < text.count, isDigit(text[index]) {
            line = line * 10 + Int(text[index] - 0x30)
            index += 1
        }
        guard index > 2, index + 1 < text.count, text[index] == 0x20, text[index + 1] == UInt8(ascii: "\"")
        else { return nil }
        index += 2
        var path: [UInt8] = []
        while index < text.count, text[index] != UInt8(ascii: "\"") {
            if text[index] == UInt8(ascii: "\\"), index + 1 < text.count {
                index += 1
                if isDigit(text[index]) {
                    var value = 0
                    var digits = 0
                    while digits < 3, index < text.count, text[index] >= 0x30, text[index] <= 0x37 {
                        value = value * 8 + Int(text[index] - 0x30)
                        index += 1
                        digits += 1
                    }
                    path.append(UInt8(truncatingIfNeeded: value))
                    continue
                }
            }
            path.append(text[index])
            index += 1
        }
        guard index < text.count else { return nil }
        quotedPath = Array(text[(text.firstIndex(of: UInt8(ascii: "\""))!)...index])
        let flags = text[(index + 1)...].split(separator: 0x20)
        self.text = text
        self.line = line
        self.path = path
        enters = flags.contains { $0.elementsEqual([UInt8(ascii: "1")]) }
        leaves = flags.contains { $0.elementsEqual([UInt8(ascii: "2")]) }
        systemFlags = flags.filter { $0.elementsEqual([UInt8(ascii: "3")]) || $0.elementsEqual([UInt8(ascii: "4")]) }
            .flatMap { [0x20] + $0 }
    }
}
