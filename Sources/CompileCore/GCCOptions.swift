// What gcc's options mean for distribution, as tables: which take a separate value, which matter only to the
// preprocessor, which force a local compile. Used by ArgScanner (client) and ServerArgPolicy (server).

public enum GCCOptions {
    /// Options whose value may be the next argument (`-o out`, `-I dir`, `-x c`).
    public static let takesSeparateValue: Set<String> = [
        "-o", "-x", "-I", "-D", "-U", "-A", "-include", "-imacros", "-isystem", "-iquote", "-idirafter",
        "-iprefix", "-iwithprefix", "-iwithprefixbefore", "-isysroot", "-imultilib", "-iwithsysroot",
        "-MF", "-MT", "-MQ", "-Xpreprocessor", "-Xassembler", "-Xlinker", "-Xclang", "-aux-info",
        "-L", "-l", "-T", "-u", "-z", "-e", "--param", "-G", "-B", "-dumpbase", "-dumpdir",
        "-dumpbase-ext", "--sysroot", "-wrapper", "-target", "-arch",
    ]

    /// Preprocessor-only options with a value, attached (`-Idir`) or separate (`-I dir`). Kept for the local
    /// preprocessing step, never sent to a server.
    static let preprocessorWithValue: [String] = [
        "-I", "-D", "-U", "-A", "-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-iprefix",
        "-iwithprefixbefore", "-iwithprefix", "-isysroot", "-imultilib", "-iwithsysroot", "-MF", "-MT", "-MQ",
        "-Xpreprocessor",
    ]

    /// Preprocessor-only flags without a value.
    static let preprocessorFlags: Set<String> = [
        "-MD", "-MMD", "-MP", "-MG", "-nostdinc", "-nostdinc++", "-C", "-CC", "-P", "-H", "-undef",
        "-remap", "-fworking-directory", "-fno-working-directory",
    ]

    /// The preprocessor-only option `argument` starts, if any (exact flag or a value option's prefix).
    public static func preprocessorOption(_ argument: String) -> String? {
        if preprocessorFlags.contains(argument) || argument.hasPrefix("-Wp,") { return argument }
        return preprocessorWithValue.first { argument.hasPrefix($0) }
    }
}
