// Which `-Wa,` values the server passes to gas, judged by what gas makes of them. gas reads its options with
// getopt_long_only: a piece with one dash is first a long option (exact name, or any unambiguous
// abbreviation), else a cluster of short options (`-Wa` is `-W -a`: a listing), and a short option that takes
// a value swallows the rest of its cluster or the next piece (`-o`, `-I`). A non-option piece is one more
// input file, `@FILE` reads options from a file. So a piece is allowed only when its meaning under that
// parsing cannot be in doubt and is on the list: a long option spelled out in full (abbreviations depend on
// gas's whole table), or a single short option alone (`-W`, glibc's rule for "-f": the short option wins).

import CompileCore

enum AssemblerOptions {
    /// Long options (used with one or two dashes) that only choose encodings, warnings and checks.
    static let flags: Set<String> = [
        "noexecstack", "execstack", "64", "32", "x32", "no-warn", "fatal-warnings", "warn", "gen-debug",
        "nocompress-debug-sections", "compress-debug-sections", "mbranches-within-32B-boundaries", "mno-shared",
        "mshared", "sectname-subst", "no-pad-sections", "mthumb", "EL", "EB", "mno-relax", "mrelax", "gdwarf-2",
        "gdwarf-3", "gdwarf-4", "gdwarf-5", "gdwarf-sections", "mamd64", "mintel64",
    ]

    /// Long options that take a value, given as `NAME=VALUE` (a plain word: no path, no option).
    static let valued: Set<String> = [
        "compress-debug-sections", "mrelax-relocations", "mx86-used-note", "mfence-as-lock-add", "mtune", "march",
        "mcpu", "mfpu", "mfloat-abi", "mabi", "size-check", "elf-stt-common", "generate-missing-build-notes",
        "momit-lock-prefix", "mevexwig", "mvexwig", "mevexlig", "mevexrcig", "mlfence-after-load",
        "mlfence-before-indirect-branch", "mlfence-before-ret", "mavxscalar", "msse2avx", "msse-check",
        "moperand-check", "mnaked-reg", "msyntax", "mmnemonic", "gdwarf-cie-version",
    ]

    /// Short options that take no value and only change checks or what the object keeps: `-W` (no
    /// warnings), `-w`, `-g`, `-L` (keep local symbols), `-J`, `-K`, `-R`, `-Z`, `-q`, `-n`, `-k`, `-s`.
    static let shortFlags: Set<Character> = ["W", "w", "g", "L", "J", "K", "R", "Z", "q", "n", "k", "s"]

    /// Why gas would read `piece` (one comma-separated value of `-Wa,`) as something not allowed, or nil.
    static func refusal(_ piece: Substring) -> String? {
        guard piece.first == "-", piece.count >= 2 else {
            return piece.first == "@"
                ? "gas reads options from the file it names" : "gas takes it as another input file"
        }
        let long = piece.hasPrefix("--")
        if !long && piece.count == 2 {
            return shortFlags.contains(piece.last!)
                ? nil : "gas's option \(shown(piece)) may read, write or print files"
        }
        let name = piece.dropFirst(long ? 2 : 1)
        if name.isEmpty { return "'--' would end gas's options" }
        if let equals = name.firstIndex(of: "=") {
            let value = name[name.index(after: equals)...]
            guard valued.contains(String(name[..<equals])) else { return "not a gas option allowed with a value" }
            let plain = value.allSatisfy { $0.isLetter || $0.isNumber || "_.+-".contains($0) } && !value.hasPrefix("-")
            return plain && value.allSatisfy(\.isASCII) ? nil : "its value is not a plain word"
        }
        if flags.contains(String(name)) { return nil }
        return long
            ? "not a gas option this server allows (gas's abbreviations are not taken)"
            : "gas would read it as an abbreviated long option or as a cluster of short options (-\(shown(name.prefix(1))) …)"
    }
}
