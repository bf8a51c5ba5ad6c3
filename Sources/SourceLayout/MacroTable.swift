// The macros defined at the current point of the preprocessed output, learnt from the `#define`/`#undef`
// lines that `gcc -E -dD` keeps: whether each is function-like, and which names its body mentions (to tell
// whether a token from macro B's body can come from an invocation of macro A).

struct MacroTable {
    private var functionLike: [Substring: Bool] = [:]
    private var bodyNames: [Substring: [Substring]] = [:]

    init() {
        // Built-ins that -dD does not list but that can appear in code.
        for name in [
            "__LINE__", "__FILE__", "__BASE_FILE__", "__FILE_NAME__", "__COUNTER__", "__INCLUDE_LEVEL__",
            "__DATE__", "__TIME__", "__TIMESTAMP__",
        ] {
            functionLike[Substring(name)] = false
        }
        functionLike["_Pragma"] = true
    }

    func isFunctionLike(_ name: Substring) -> Bool? { functionLike[name] }

    /// Takes a `#define NAME[(params)] body` line of -dD output.
    mutating func define(_ line: Substring) {
        var rest = line.dropFirst("#define ".count)
        let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard !name.isEmpty else { return }
        rest = rest.dropFirst(name.count)
        let isFunctionLike = rest.first == "("
        if isFunctionLike, let close = rest.firstIndex(of: ")") { rest = rest[rest.index(after: close)...] }
        functionLike[name] = isFunctionLike
        bodyNames[name] = rest.split { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_")) }
            .filter { $0.first.map { !$0.isNumber } ?? false }
    }

    /// Takes a `#undef NAME` line.
    mutating func undefine(_ line: Substring) {
        let name = line.dropFirst("#undef ".count).prefix { !$0.isWhitespace }
        functionLike[name] = nil
        bodyNames[name] = nil
    }

    /// True when expanding `name` can produce tokens of `target`'s body (directly or through other macros).
    func reaches(_ name: Substring, _ target: Substring) -> Bool {
        var seen: Set<Substring> = [name]
        var queue = [name]
        while let next = queue.popLast(), seen.count < 512 {
            if next == target { return true }
            for mentioned in bodyNames[next] ?? []
            where functionLike[mentioned] != nil && seen.insert(mentioned).inserted {
                queue.append(mentioned)
            }
        }
        return false
    }
}
