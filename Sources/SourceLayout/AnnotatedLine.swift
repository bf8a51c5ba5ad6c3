// One line of `gcc -E -fdebug-cpp` output, split into its location annotations and the text between them.
// gcc prints `{P:path;F:from;L:line;C:column;S:sys;M:map;E:macro,LOC:n,R:n}` before every token it outputs
// (and before some line changes, with column 0). The printed location is where the token was spelled:
// inside a `#define` for a token that came from a macro body.

/// Where gcc says a token was spelled.
struct Annotation {
    var path: ArraySlice<UInt8>
    var line: Int
    var column: Int
}

enum LinePiece {
    case annotation(Annotation)
    case text(ArraySlice<UInt8>)
}

struct AnnotatedLine {
    var pieces: [LinePiece] = []
    /// The line without its annotations.
    var stripped: [UInt8] = []

    /// Splits `line`; nil when an annotation is malformed.
    init?(_ line: ArraySlice<UInt8>) {
        var index = line.startIndex
        var textStart = index
        while index < line.endIndex {
            guard line[index] == UInt8(ascii: "{"), Self.matches(line, index, "{P:") else {
                index += 1
                continue
            }
            if textStart < index {
                pieces.append(.text(line[textStart..<index]))
                stripped += line[textStart..<index]
            }
            guard let (annotation, end) = Self.annotation(line, from: index) else { return nil }
            pieces.append(.annotation(annotation))
            index = end
            textStart = end
        }
        if textStart < line.endIndex {
            pieces.append(.text(line[textStart..<line.endIndex]))
            stripped += line[textStart..<line.endIndex]
        }
    }

    private static func matches(_ line: ArraySlice<UInt8>, _ index: Int, _ text: String) -> Bool {
        let utf8 = text.utf8
        return line.endIndex - index >= utf8.count && line[index..<index + utf8.count].elementsEqual(utf8)
    }

    private static func find(_ line: ArraySlice<UInt8>, _ text: String, from start: Int) -> Int? {
        var index = start
        while index < line.endIndex {
            if matches(line, index, text) { return index }
            index += 1
        }
        return nil
    }

    private static func integer(_ line: ArraySlice<UInt8>, from start: Int) -> (Int, Int)? {
        var index = start
        var negative = false
        if index < line.endIndex && line[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value = 0
        let digitsStart = index
        while index < line.endIndex && isDigit(line[index]) {
            value = value * 10 + Int(line[index] - 0x30)
            index += 1
        }
        guard index > digitsStart, value < 1 << 40 else { return nil }
        return (negative ? -value : value, index)
    }

    /// The annotation starting at `start` (at `{P:`) and the index just past its `}`.
    private static func annotation(_ line: ArraySlice<UInt8>, from start: Int) -> (Annotation, Int)? {
        let pathStart = start + 3
        guard let pathEnd = find(line, ";F:", from: pathStart),
            let lineKey = find(line, ";L:", from: pathEnd),
            let (lineNumber, afterLine) = integer(line, from: lineKey + 3),
            matches(line, afterLine, ";C:"),
            let (column, afterColumn) = integer(line, from: afterLine + 3),
            let resolved = find(line, ",R:", from: afterColumn),
            let close = find(line, "}", from: resolved)
        else { return nil }
        return (Annotation(path: line[pathStart..<pathEnd], line: lineNumber, column: column), close + 1)
    }
}
