// The server's check of the assembly a compile produced, before the assembler reads it. Inline `asm` can
// reach the assembler in forms no look at the C text catches (string escapes `.inc\x62in`, concatenated
// literals, directives in any letter case), so sshccd compiles to assembly first and looks here: `.incbin`
// and `.include` would read a server file into the object or the error messages, `.macro`/`.irp`/`.irpc`
// can build those directive names from pieces and `.mri` drops the dot. Compiler-generated assembly never uses any of them; a refused
// job falls back to a local compile.

import CompileCore

public enum AssemblyPolicy {
    /// Directive names (lower case; the assembler ignores case) that are refused wherever they appear.
    static let forbidden: Set<[UInt8]> = Set(
        ["incbin", "include", "macro", "irp", "irpc", "mri"].map { Array($0.utf8) })

    /// The reason `assembly` is refused, or nil.
    public static func refusal(_ assembly: [UInt8]) -> String? {
        var index = 0
        while index < assembly.count {
            defer { index += 1 }
            guard assembly[index] == UInt8(ascii: "."), index == 0 || !isNameByte(assembly[index - 1]) else {
                continue
            }
            var end = index + 1
            while end < assembly.count, isNameByte(assembly[end]), end - index <= 8 { end += 1 }
            let name = assembly[(index + 1)..<end].map { $0 | 0x20 }  // ASCII lower case
            if forbidden.contains(name) {
                return "the compile's assembly uses '.\(String(decoding: name, as: UTF8.self))', which could read "
                    + "a server file; such code is compiled locally"
            }
            index = end - 1
        }
        return nil
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"), UInt8(ascii: "."):
            true
        default: false
        }
    }
}

/// The same check over assembly that arrives in pieces: whole lines are checked and passed on as they
/// come, so the assembler works while the compiler is still writing (and exiting). A directive name cannot
/// span a line end, and a line starts as the text does, so the lines pass exactly when the whole text would.
public struct AssemblyScreen {
    private var partial: [UInt8] = []
    /// Why the assembly was refused, once it was.
    public private(set) var refusal: String?

    public init() {}

    /// Takes the next bytes (`atEnd`: the text is complete) and returns the checked lines ready to go on,
    /// or nil once refused.
    public mutating func pass(_ bytes: [UInt8], atEnd: Bool) -> [UInt8]? {
        guard refusal == nil else { return nil }
        partial += bytes
        let cut = atEnd ? partial.count : (partial.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)
        guard cut > 0 else { return [] }
        let lines = Array(partial[..<cut])
        partial.removeFirst(cut)
        refusal = AssemblyPolicy.refusal(lines)
        return refusal == nil ? lines : nil
    }
}
