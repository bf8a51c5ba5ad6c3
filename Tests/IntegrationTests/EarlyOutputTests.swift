// EarlyOutputRun ↔ EarlyOutput.swift: a child told to write to our pipe by name gives its whole text when its
// writer closes it, with real gcc as the writer's parent; a child that never writes, or fails first, ends the
// wait instead of hanging it.

import Foundation
import POSIXSupport
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct EarlyOutputTests {
    init() { signal(SIGPIPE, SIG_IGN) }

    func start(_ script: String) throws -> EarlyOutputRun {
        try #require(EarlyOutputRun.start(executable: "/bin/sh") { output in ["sh", "-c", script, "sh", output] })
    }

    /// gcc's driver starts cc1, which opens the name itself: the text is what `gcc -E` prints on stdout.
    @Test func gccPreprocessorTextArrivesWhole() throws {
        let directory = try TemporaryDirectory("sshcc-early")
        try directory.write(
            "x.c", "#include <stdio.h>\n#define TWICE(x) ((x) * 2)\nint f(int a) { return TWICE(a); }\n")
        let source = directory.path + "/x.c"
        let run = try #require(
            EarlyOutputRun.start(executable: "/usr/bin/gcc") { output in ["gcc", source, "-E", "-o", output] })
        let text = try run.output()
        #expect(try run.wait() == 0)
        let plain = try Subprocess.run(executable: "/usr/bin/gcc", arguments: ["gcc", source, "-E"])
        #expect(plain.status == 0)
        #expect(text == plain.stdout)
        #expect(text.count > 10_000)  // stdio.h: more than one read
    }

    /// Far more than a pipe holds, written before the writer exits.
    @Test func largeOutputIsReadWhileWritten() throws {
        let run = try start("head -c 3000000 /dev/zero > \"$1\"")
        #expect(try run.output().count == 3_000_000)
        #expect(try run.wait() == 0)
    }

    /// Pieces are handed over while the writer still writes: the child writes its tail only once the test
    /// has seen a piece (it waits for a flag the piece handler creates), and every byte arrives exactly once.
    @Test func piecesComeWhileTheWriterStillWrites() throws {
        let flag = NSTemporaryDirectory() + "/sshcc-piece-\(UUID().uuidString)"
        defer { unlink(flag) }
        let run = try start(
            "{ head -c 100000 /dev/zero; i=0; while [ ! -e \(flag) ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; "
                + "[ -e \(flag) ] && printf tail; } > \"$1\"")
        var pieces: [Int] = []
        let text = try run.output(pieceSize: 64 * 1024) { piece in
            pieces.append(piece.count)
            _ = FileManager.default.createFile(atPath: flag, contents: nil)
        }
        #expect(text.count == 100_004 && text.suffix(4) == Array("tail".utf8), "the tail came after a piece")
        #expect(!pieces.isEmpty && pieces.allSatisfy { $0 >= 64 * 1024 }, "\(pieces)")
        #expect(pieces.reduce(0, +) <= text.count)
        #expect(try run.wait() == 0)
    }

    /// A child that fails before its writer ever opens the name (gcc: a missing source file).
    @Test func childThatNeverOpensEndsTheWait() throws {
        let run = try start("echo nothing to write >&2; exit 4")
        #expect(try run.output().isEmpty)
        #expect(try run.wait() == 4 << 8)
    }

    /// A writer that opens the name and closes it without writing, then the child succeeds.
    @Test func emptyOutputThenSuccess() throws {
        let run = try start(": > \"$1\"; sleep 0.1; exit 0")
        #expect(try run.output().isEmpty)
        #expect(try run.wait() == 0)
    }

    /// The text is complete when the writer closes it, while the child still runs (the driver after cc1).
    @Test func textBeforeTheChildExits() throws {
        let flag = NSTemporaryDirectory() + "/sshcc-early-\(UUID().uuidString)"
        defer { unlink(flag) }
        let run = try start("printf 'abc' > \"$1\"; while [ ! -e \(flag) ]; do sleep 0.01; done; exit 2")
        #expect(try run.output() == Array("abc".utf8))
        #expect(FileManager.default.createFile(atPath: flag, contents: nil))
        #expect(try run.wait() == 2 << 8)
    }
}
