// Which compiler names a server will run. The name is matched, never a path: a client-supplied
// `/tmp/evil/gcc` is reduced to `gcc` and looked up on the server's own PATH (by SSHCCServer).

/// Compiler names a server accepts: base names, their `<triple>-` forms and `-N` version suffixes.
public struct CompilerAllowList: Sendable, Equatable {
    public static let defaultNames = ["gcc", "g++", "cc", "c++", "clang", "clang++"]
    public var names: Set<String>

    public init(names: some Sequence<String> = defaultNames) { self.names = Set(names) }

    /// The base name the server will look up, or nil when the compiler is not allowed.
    /// Accepts `gcc`, `gcc-12`, `x86_64-linux-gnu-gcc`, `x86_64-linux-gnu-gcc-12`, `/usr/bin/gcc`.
    public func allowedName(for compiler: String) -> String? {
        let name = PathName.base(compiler)
        guard !name.isEmpty, name.first != "-", name.first != ".",
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._+-".contains($0)) })
        else { return nil }
        var stem = Substring(name)
        // A version suffix: -12, -12.2
        if let dash = stem.lastIndex(of: "-"),
            stem[stem.index(after: dash)...].allSatisfy({ $0.isNumber || $0 == "." }),
            stem[stem.index(after: dash)...].first?.isNumber == true
        {
            stem = stem[..<dash]
        }
        if names.contains(String(stem)) { return name }
        // A target triple prefix: one to four dash-separated words before the base name.
        for base in names where stem.hasSuffix("-" + base) {
            let triple = stem.dropLast(base.count + 1)
            let words = triple.split(separator: "-", omittingEmptySubsequences: false)
            if (2...4).contains(words.count), words.allSatisfy({ !$0.isEmpty }) { return name }
        }
        return nil
    }
}
