// Source languages as gcc names them: which file suffixes a compile server can take, and what the same
// file is called once preprocessed. Shared by the client's scanner and the server's argument policy.

/// A source language that can be preprocessed on the client and compiled on a server.
public enum Language: String, Sendable, CaseIterable {
    case c, cxx = "c++", objc = "objective-c", objcxx = "objective-c++"

    /// gcc's `-x` name for the preprocessed form (`-x cpp-output` compiles without preprocessing).
    public var preprocessedXName: String {
        switch self {
        case .c: "cpp-output"
        case .cxx: "c++-cpp-output"
        case .objc: "objective-c-cpp-output"
        case .objcxx: "objective-c++-cpp-output"
        }
    }

    /// File suffix of the preprocessed form; gcc infers `preprocessedXName` from it.
    public var preprocessedSuffix: String {
        switch self {
        case .c: ".i"
        case .cxx: ".ii"
        case .objc: ".mi"
        case .objcxx: ".mii"
        }
    }

    /// A language named by `-x NAME`, with whether the input is already preprocessed.
    public static func fromXName(_ name: String) -> (language: Language, preprocessed: Bool)? {
        if let language = Language(rawValue: name) { return (language, false) }
        if let language = allCases.first(where: { $0.preprocessedXName == name }) { return (language, true) }
        return nil
    }

    /// The language `driver` (a compiler's name or path) compiles a file named `name` as: its suffix's,
    /// except that C++ drivers (g++, c++, clang++ and their versioned and cross names) compile C sources
    /// and preprocessed C (`.c`, `.i`) as C++, as gcc and clang do (`-###` shows it).
    public static func fromFileName(_ name: String, driver: String) -> (language: Language, preprocessed: Bool)? {
        guard let kind = fromFileName(name) else { return nil }
        return kind.language == .c && PathName.base(driver).contains("++") ? (.cxx, kind.preprocessed) : kind
    }

    /// The language a file name implies by its suffix (gcc's rules), nil for anything else.
    public static func fromFileName(_ name: String) -> (language: Language, preprocessed: Bool)? {
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        switch String(name[dot...]) {
        case ".c": return (.c, false)
        case ".i": return (.c, true)
        case ".cc", ".cp", ".cxx", ".cpp", ".CPP", ".c++", ".C": return (.cxx, false)
        case ".ii": return (.cxx, true)
        case ".m": return (.objc, false)
        case ".mi": return (.objc, true)
        case ".mm", ".M": return (.objcxx, false)
        case ".mii": return (.objcxx, true)
        default: return nil
        }
    }
}

/// Path helpers without Foundation.
public enum PathName {
    /// The source a compile command line names: the first argument with a source suffix that is no option
    /// and not `-o`'s value ("?" when none is), for status lines and logs.
    public static func source(in arguments: [String]) -> String {
        var previous = ""
        for argument in arguments.dropFirst() {
            defer { previous = argument }
            guard previous != "-o", !argument.hasPrefix("-"), Language.fromFileName(argument) != nil else { continue }
            return argument
        }
        return "?"
    }

    /// The last path component.
    public static func base(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Everything before the last component (`.` for a bare name, `/` for a file at the root).
    public static func directory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` without its last suffix (`dir/x.c` → `dir/x`); unchanged when the last component has none.
    public static func dropSuffix(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/"),
            dot != path.startIndex, path[path.index(before: dot)] != "/"
        else { return path }
        return String(path[..<dot])
    }
}
