// The server's view of the preprocessed text a client sends: even "already preprocessed" input can make the
// compiler read a server file. `#pragma GCC pch_preprocess "FILE"` (or its _Pragma form) makes cc1 open FILE
// as a precompiled header, and an assembler `.incbin "FILE"` embeds FILE in the object returned to the client.
// Both are refused by name, anywhere in the text: legitimate preprocessed code never needs them on a server,
// and a refused job falls back to a local compile.

public enum SourcePolicy {
    /// Byte sequences whose presence makes the server refuse a source, with why.
    static let forbidden: [(bytes: [UInt8], reason: String)] = [
        (Array("pch_preprocess".utf8), "'#pragma GCC pch_preprocess' would make the compiler open a server file"),
        (Array(".incbin".utf8), "assembler '.incbin' would embed a server file in the object"),
    ]

    /// The reason `source` is refused, or nil when it may be compiled.
    public static func refusal(_ source: [UInt8]) -> String? {
        for rule in forbidden where contains(source, rule.bytes) {
            return "the source is refused: \(rule.reason)"
        }
        return nil
    }

    /// Plain substring search; the needles are short and the check runs once per job.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
