// SourcePolicy's directive scanner against the real preprocessors, byte by byte: every byte 0x00–0xFF put in
// every position of a file-reading directive, compiled by gcc (-fpreprocessed, as sshccd compiles) and by
// clang (-x cpp-output) under strace. Whenever the compiler touched the directive's file, the scanner must
// refuse that line. The plain directive is the control: the compiler does touch the file without the check.

import CompileCore
import Foundation
import ServerPolicy
import TestSupport
import Testing

@Suite(.serialized) struct DirectiveBytesTests {
    /// A directive line with `F` for its file, and a fixed line after it (for `#define`, the use).
    struct Form: CustomStringConvertible, Sendable {
        var line: String
        var follow: String = ""
        var description: String { line }
    }

    static let forms = [
        Form(line: "#include \"F\""), Form(line: "#pragma GCC dependency \"F\""), Form(line: "#embed \"F\""),
        Form(line: "#define P \"F\"", follow: "#include P\n#undef P"),
    ]

    enum Compiler: String, CaseIterable, Sendable { case gcc, clang }

    struct Variant {
        var byte: UInt8
        var position: Int
        var line: [UInt8]
        var file: String
    }

    /// The line with `byte` inserted at `position` and `F` named after both.
    static func variant(_ form: Form, byte: UInt8, position: Int) -> Variant {
        let file = "f\(position)_\(byte)"
        var line = Array(form.line.replacingOccurrences(of: "F", with: file).utf8)
        line.insert(byte, at: position)
        return Variant(byte: byte, position: position, line: line, file: file)
    }

    /// The bytes of the variants' file: each variant line, its follow line, then a sentinel that the compiler
    /// touches only once it got past the variant (it shows where a fatal error stopped it).
    static func text(_ variants: [Variant], _ form: Form) -> [UInt8] {
        var text: [UInt8] = []
        for variant in variants {
            text += variant.line + Array("\n".utf8)
            text += Array(form.follow.utf8) + Array("\n\n".utf8)
            text += Array("#pragma GCC dependency \"s_\(variant.file)\"\n\n".utf8)
        }
        return text
    }

    /// The names of the files the compiler looked at (stat, open…) while compiling `text`.
    static func touched(_ compiler: Compiler, _ text: [UInt8], in directory: TemporaryDirectory) throws -> Set<String> {
        let source = directory.path + "/t.i"
        try Data(text).write(to: URL(fileURLWithPath: source))
        let trace = directory.path + "/trace"
        let flags =
            compiler == .gcc
            ? ["gcc", "-fpreprocessed", "-fsyntax-only", "-fmax-errors=0", "-w", "t.i"]
            : ["clang", "-x", "cpp-output", "-fsyntax-only", "-ferror-limit=0", "-w", "t.i"]
        try Command.run("strace", ["-f", "-qq", "-e", "trace=file", "-o", trace] + flags, directory: directory.path)
        let log = try String(contentsOfFile: trace, encoding: .utf8)
        var names = Set<String>()
        // Paths as the compilers spell them: "f0_1", "./f0_1" (clang), "/tmp/…/f0_1" (a readlink).
        for piece in log.split(separator: "\"") {
            let name = piece.split(separator: "/").last ?? piece
            if name.first == "f" || name.hasPrefix("s_f") { names.insert(String(name)) }
        }
        return names
    }

    /// Which variants the compiler obeyed: compiled together, and again from the one after wherever a fatal
    /// error stopped the compiler (its sentinel was not touched).
    static func obeyed(_ compiler: Compiler, _ form: Form, _ variants: [Variant], in directory: TemporaryDirectory)
        throws -> [Bool]
    {
        var result = [Bool](repeating: false, count: variants.count)
        var start = 0
        while start < variants.count {
            let batch = Array(variants[start...])
            let names = try touched(compiler, text(batch, form), in: directory)
            var reached = start
            for (offset, variant) in batch.enumerated() {
                result[start + offset] = names.contains(variant.file)
                if names.contains("s_" + variant.file) { reached = start + offset + 1 }
            }
            // The variant after the last sentinel stopped the compiler: it counts as seen alone.
            if reached < variants.count {
                let alone = try touched(compiler, text([variants[reached]], form), in: directory)
                result[reached] = alone.contains(variants[reached].file)
            }
            start = reached + 1
        }
        return result
    }

    @Test(arguments: Compiler.allCases, forms)
    func everyByteInEveryPosition(_ compiler: Compiler, _ form: Form) throws {
        let directory = try TemporaryDirectory("sshcc-directives")
        let length = Array(form.line.utf8).firstIndex(of: UInt8(ascii: "\"")) ?? form.line.utf8.count
        let future = Date(timeIntervalSinceNow: 86_400 * 365)
        var variants: [Variant] = []
        for position in 0...length {
            for byte in 0...255 { variants.append(Self.variant(form, byte: UInt8(byte), position: position)) }
        }
        for name in variants.flatMap({ [$0.file, "s_" + $0.file] }) {
            // Empty files: an include or embed of one compiles; a future mtime makes a dependency only warn.
            let path = directory.path + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: Data())
            try FileManager.default.setAttributes([.modificationDate: future], ofItemAtPath: path)
        }
        // A file per position: clang keeps every included file open, so thousands at once run out of
        // descriptors.
        var obeyed: [Bool] = []
        for position in 0...length {
            obeyed += try Self.obeyed(compiler, form, variants.filter { $0.position == position }, in: directory)
        }
        var missed: [String] = []
        var obeyedCount = 0
        for (variant, wasObeyed) in zip(variants, obeyed) where wasObeyed {
            obeyedCount += 1
            if SourcePolicy.refusal(variant.line + Array("\n".utf8), clang: compiler == .clang) == nil {
                missed.append("byte 0x\(String(variant.byte, radix: 16)) at \(variant.position)")
            }
        }
        #expect(missed.isEmpty, "\(compiler) obeyed '\(form)' lines the scanner lets through: \(missed)")
        // The control: the directive as written reaches the compiler (gcc obeys only the dependency pragma
        // under -fpreprocessed; gcc 12 has no #embed; gcc does not expand a #define).
        let plain = zip(variants, obeyed).first { $0.0.byte == UInt8(ascii: " ") && $0.0.position == 1 }!.1
        let expected =
            compiler == .clang
            || form.line.contains("dependency")
        #expect(plain == expected, "\(compiler) and '\(form)' with a blank after '#': obeyed \(plain)")
        print("\(compiler) '\(form)': \(variants.count) lines, \(obeyedCount) obeyed, all refused by the scanner")
    }
}
