// Preprocessed text that compiles to the same debug information as the original sources.
//
// gcc records a line and a column for every declaration and statement (DWARF). Compiling the text of a plain
// `gcc -E` moves columns: white space collapses and macro expansions change the length of lines. A local
// compile gives every token either the place it was spelled (a "direct" token) or, for tokens that came out
// of a macro expansion, the place of the outermost macro's name (its expansion point). This file rebuilds
// the preprocessed text so that each token sits at exactly that line and column, using line markers to go
// back to a column already passed. It reads `gcc -E -dD -fdebug-cpp` output (annotated spelling locations,
// macro definitions in order) and the original source files.
//
// Facts it relies on (gcc 12, measured in Docs/limitations.md):
// - `-E` keeps every token on the output line of its expansion point, and pads the first token of an output
//   line to its expansion column;
// - a marker without a file name (`# 12`) keeps the line map's file-name pointer, which gcc compares by
//   address when it decides to start a new line-table row; a marker naming the file would not.
// The result is nil whenever the input is not understood: the caller then sends plain `gcc -E` output.

public enum DebugLayout {
    /// The relaid-out preprocessed text, or nil. `readFile` returns a source file's bytes (nil if unreadable).
    /// `keepSystemMacroFlips`: see `Relayout.keepSystemMacroFlips`.
    public static func relayout(
        _ annotated: [UInt8], keepSystemMacroFlips: Bool = false, readFile: (String) -> [UInt8]?
    ) -> [UInt8]? {
        try? relayoutOrExplain(annotated, keepSystemMacroFlips: keepSystemMacroFlips, readFile: readFile).get()
    }

    /// The same, or what was not understood (for verbose logs).
    public static func relayoutOrExplain(
        _ annotated: [UInt8], keepSystemMacroFlips: Bool = false, readFile: (String) -> [UInt8]?
    ) -> Result<[UInt8], LayoutFailure> {
        withoutActuallyEscaping(readFile) { readFile in
            var layout = Relayout(readFile: readFile, keepSystemMacroFlips: keepSystemMacroFlips)
            guard let text = layout.run(annotated) else { return .failure(LayoutFailure(reason: layout.failure)) }
            return .success(text)
        }
    }
}

public struct LayoutFailure: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// The token's place in the local compile.
private struct Placement {
    var line: Int
    var column: Int
    var direct: Bool
}

/// A macro invocation in the current file: where its name is, and the source it spans.
private struct Invocation {
    var line: Int
    var column: Int
    var start: Int
    var end: Int
    var name: Substring?
}

private struct Relayout {
    let readFile: (String) -> [UInt8]?
    var sources: [String: SourceText?] = [:]
    var macros = MacroTable()

    var output: [UInt8] = []
    var outputLine = 0
    var outputColumn = 1
    var lineOpen = false

    /// The current file: its name as annotations spell it, its system-header flags, and how far its tokens
    /// have been matched to the source (`cursor`, a byte offset).
    var file: [UInt8] = []
    var systemFlags: [UInt8] = []
    var cursor = 0
    var includers: [(file: [UInt8], systemFlags: [UInt8], cursor: Int)] = []
    /// Inside the include `enter` opens for system-macro tokens: the flags to go back to.
    var systemInclude: [UInt8]?
    var invocation: Invocation?
    var previousDirectEnd: (line: Int, column: Int)?
    var failure = "not understood"
    /// The current file's text (nil: not looked up yet since the file changed; .some(nil): unreadable).
    var currentSource: SourceText??
    /// The file a macro token was last spelled in, and its text.
    var lastDefinitionFile: (path: ArraySlice<UInt8>, text: SourceText?)?

    /// gcc -E marks tokens of system-header macros used in user code as system tokens (a marker switching
    /// the system-header flag around them), as a local compile sees them: warnings there are suppressed.
    /// Keeping those switches costs exact DWARF line tables (each starts line-table rows a local compile does
    /// not have), dropping them can turn a suppressed warning into an error under -Werror: the caller keeps
    /// them exactly when warnings are errors.
    let keepSystemMacroFlips: Bool

    init(readFile: @escaping (String) -> [UInt8]?, keepSystemMacroFlips: Bool) {
        self.readFile = readFile
        self.keepSystemMacroFlips = keepSystemMacroFlips
    }

    mutating func run(_ annotated: [UInt8]) -> [UInt8]? {
        var pending: Annotation?
        var originalLine = 0
        var lineStart = 0
        while lineStart < annotated.count {
            let lineEnd = annotated[lineStart...].firstIndex(of: 0x0A) ?? annotated.count
            defer { lineStart = lineEnd + 1 }
            guard let line = AnnotatedLine(annotated[lineStart..<lineEnd]) else {
                failure = "malformed annotation on output line \(originalLine)"
                return nil
            }
            let text = line.stripped
            if text.first == UInt8(ascii: "#") {
                if let marker = LineMarker(text) {
                    enter(marker)
                    originalLine = marker.line
                    continue
                }
                let directive = Substring(decoding: text, as: UTF8.self)
                if directive.hasPrefix("#define ") {
                    macros.define(directive)
                } else if directive.hasPrefix("#undef ") {
                    macros.undefine(directive)
                } else {
                    // #pragma and friends keep their own line, at their original place.
                    if outputLine != originalLine || lineOpen { marker(originalLine) }
                    output += text
                    newline()
                }
                originalLine += 1
                continue
            }
            var firstColumn: Int? = (text.firstIndex { $0 != 0x20 } ?? text.count) + 1
            for piece in line.pieces {
                switch piece {
                case .annotation(let annotation):
                    if annotation.column != 0 { pending = annotation }
                case .text(let raw):
                    let token = trimmed(raw)
                    guard !token.isEmpty else { continue }
                    guard let annotation = pending, Self.isWholeToken(token),
                        let place = classify(token, annotation, originalLine, firstColumn)
                    else {
                        let spelled = pending.map {
                            "\(String(decoding: $0.path, as: UTF8.self)):\($0.line):\($0.column)"
                        }
                        failure =
                            "cannot place '\(String(decoding: token, as: UTF8.self))' (spelled at \(spelled ?? "?"))"
                            + " on line \(originalLine) of \(String(decoding: file, as: UTF8.self))"
                        return nil
                    }
                    pending = nil
                    firstColumn = nil
                    put(token, place)
                }
            }
            originalLine += 1
        }
        leaveSystemInclude(at: outputLine)
        if lineOpen || outputColumn != 1 { newline() }
        return output
    }

    // MARK: deciding where a token goes

    mutating func classify(
        _ token: ArraySlice<UInt8>, _ spelled: Annotation, _ line: Int, _ firstColumn: Int?
    ) -> Placement? {
        guard let source = currentText else { return nil }
        let inFile = spelled.path.elementsEqual(file)
        let offset = inFile ? source.offset(line: spelled.line, column: spelled.column) : nil

        // A new output line is a new expansion context unless gcc broke a long expansion over lines.
        if firstColumn != nil, invocation?.line != line {
            guard let start = source.offset(line: line, column: 1) else { return nil }
            cursor = max(cursor, start)
            invocation = nil
        }
        // Spelled in this file at or after the cursor: direct, unless it is an argument of an invocation
        // that starts in between.
        if let offset, offset >= cursor, source.has(token, at: offset) {
            var scan = source.skipBlank(cursor)
            while scan < offset {
                let found = source.invocation(at: scan, macros)
                if let found, found.end > offset { return start(found, at: scan, source) }
                scan = source.skipBlank(found?.end ?? source.tokenEnd(scan))
            }
            cursor = offset + token.count
            invocation = nil
            return Placement(line: spelled.line, column: spelled.column, direct: true)
        }

        // From a macro expansion: the current invocation, or one on this output line.
        let origin = definingMacro(spelled)
        func explains(_ name: Substring?, _ start: Int, _ end: Int) -> Bool {
            if let offset, start <= offset, offset < end { return true }
            guard let origin, let name else { return false }
            return macros.reaches(name, origin)
        }
        if let current = invocation, origin == nil || explains(current.name, current.start, current.end) {
            return Placement(line: current.line, column: current.column, direct: false)
        }
        let lineEnd = source.endOfLine(line)
        var candidates: [(start: Int, found: (name: Substring, end: Int), matches: Bool)] = []
        var scan = source.skipBlank(cursor, limit: lineEnd)
        while scan < lineEnd {
            let found = source.invocation(at: scan, macros)
            if let found { candidates.append((scan, found, explains(found.name, scan, found.end))) }
            scan = source.skipBlank(found?.end ?? source.tokenEnd(scan), limit: lineEnd)
        }
        if let current = invocation, !candidates.contains(where: \.matches) {
            return Placement(line: current.line, column: current.column, direct: false)
        }
        var choices = candidates.filter(\.matches)
        if choices.isEmpty { choices = candidates }
        if let firstColumn {
            // gcc padded the line's first token to its expansion column (give or take its leading space).
            choices.sort {
                abs(source.position(of: $0.start).column - firstColumn)
                    < abs(source.position(of: $1.start).column - firstColumn)
            }
        }
        guard let choice = choices.first else { return nil }
        return start(choice.found, at: choice.start, source)
    }

    mutating func start(_ found: (name: Substring, end: Int), at start: Int, _ source: SourceText) -> Placement {
        let position = source.position(of: start)
        invocation = Invocation(
            line: position.line, column: position.column, start: start, end: found.end, name: found.name)
        cursor = max(cursor, found.end)
        return Placement(line: position.line, column: position.column, direct: false)
    }

    /// The macro whose `#define` line the token was spelled on, if any.
    mutating func definingMacro(_ spelled: Annotation) -> Substring? {
        guard spelled.path.first != UInt8(ascii: "<") else { return nil }
        if let last = lastDefinitionFile, last.path.elementsEqual(spelled.path) {
            return last.text?.definedName(line: spelled.line)
        }
        let text = source(spelled.path)
        lastDefinitionFile = (spelled.path, text)
        return text?.definedName(line: spelled.line)
    }

    /// The current file's text, if it can be read.
    var currentText: SourceText? {
        mutating get {
            if currentSource == nil { currentSource = source(file) }
            return currentSource ?? nil
        }
    }

    mutating func source(_ path: some Collection<UInt8>) -> SourceText? {
        let name = String(decoding: path, as: UTF8.self)
        if let cached = sources[name] { return cached }
        let text = name.hasPrefix("<") ? nil : readFile(name).map(SourceText.init)
        sources[name] = text
        return text
    }

    // MARK: writing the output

    mutating func put(_ token: ArraySlice<UInt8>, _ place: Placement) {
        let adjacent = place.direct && previousDirectEnd.map { $0 == (place.line, place.column) } == true
        if place.line == outputLine
            && (place.column > outputColumn || (place.column == outputColumn && adjacent))
        {
            // Same line, still ahead: pad.
        } else if place.line > outputLine && place.line - outputLine <= 8 {
            while outputLine < place.line { newline() }
        } else {
            marker(place.line)
        }
        output += repeatElement(UInt8(ascii: " "), count: max(0, place.column - outputColumn))
        output += token
        outputColumn = place.column + token.count
        lineOpen = true
        previousDirectEnd = place.direct ? (place.line, place.column + token.count) : nil
    }

    mutating func newline() {
        output.append(0x0A)
        outputLine += 1
        outputColumn = 1
        lineOpen = false
    }

    /// `# LINE` alone: the next output line is LINE of the same file, same line map file name.
    mutating func marker(_ line: Int) {
        writeLine(Array("# \(line)".utf8))
        outputLine = line
    }

    mutating func enter(_ marker: LineMarker) {
        let sameFile = marker.path == file && !marker.enters && !marker.leaves
        if sameFile, marker.systemFlags == systemFlags {
            self.marker(marker.line)
            return
        }
        // A switch of the system-header flag in the middle of a file: `#pragma GCC system_header` (kept as
        // written), or tokens of a system macro used in user code (and back). Those are dropped unless kept
        // (see keepSystemMacroFlips); kept, a renaming marker would give the file name a new pointer for the
        // rest of the file (extra DWARF rows), so the same file is entered as an include instead, and left
        // with `# N "" 2`, which gives back the includer's own name pointer.
        let pragma = sameFile && currentText?.isSystemHeaderPragma(line: marker.line - 1) == true
        if sameFile, !pragma, !keepSystemMacroFlips, systemInclude == nil {
            self.marker(marker.line)
            return
        }
        if sameFile, !pragma, systemFlags.isEmpty, systemInclude == nil {
            writeLine(Array("# \(marker.line) ".utf8) + marker.quotedPath + Array(" 1".utf8) + marker.systemFlags)
            systemInclude = systemFlags
            systemFlags = marker.systemFlags
            outputLine = marker.line
            return
        }
        if sameFile, let outer = systemInclude, marker.systemFlags == outer {
            leaveSystemInclude(at: marker.line)
            return
        }
        if let _ = systemInclude { leaveSystemInclude(at: outputLine) }
        if sameFile {
            // Another change of system-header mode: kept as gcc wrote it.
        } else if marker.enters {
            includers.append((file, systemFlags, cursor))
            cursor = 0
        } else if marker.leaves, let includer = includers.popLast() {
            cursor = includer.cursor
        } else if marker.path != file {
            cursor = 0
        }
        if !sameFile { invocation = nil }
        if marker.path != file { currentSource = nil }
        file = marker.path
        systemFlags = marker.systemFlags
        writeLine(marker.text)
        outputLine = marker.line
    }

    /// Ends the include that `enter` opened for system-macro tokens; the next line is `line` of the file.
    mutating func leaveSystemInclude(at line: Int) {
        guard let outer = systemInclude else { return }
        writeLine(Array("# \(line) \"\" 2".utf8) + outer)
        systemInclude = nil
        systemFlags = outer
        outputLine = line
    }

    /// `text` on a line of its own.
    mutating func writeLine(_ text: [UInt8]) {
        if lineOpen || outputColumn != 1 { newline() }
        output += text
        output.append(0x0A)
    }

    // MARK: token checks

    func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = text
        while slice.first == 0x20 { slice = slice.dropFirst() }
        while slice.last == 0x20 { slice = slice.dropLast() }
        return slice
    }

    /// A literal must close on its line (a user-defined suffix may follow); anything else (a raw string over
    /// lines) is not understood.
    static func isWholeToken(_ token: ArraySlice<UInt8>) -> Bool {
        guard let quoteIndex = token.firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }),
            token[token.startIndex..<quoteIndex].allSatisfy(isIdentifierBody)
        else { return true }
        let quote = token[quoteIndex]
        var index = quoteIndex + 1
        while index < token.endIndex && token[index] != quote {
            index += token[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard index < token.endIndex else { return false }
        return token[(index + 1)...].allSatisfy(isIdentifierBody)
    }
}
