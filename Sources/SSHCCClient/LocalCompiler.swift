// The real compiler on this machine: run in place of sshcc (local compile), as the preprocessor, and as
// the renderer of diagnostics with source excerpts.

import CompileCore
import POSIXSupport

struct LocalCompiler {
    /// Full path of the real compiler.
    let path: String
    /// The user's command line, compiler name first. The compiler runs with its full path as argv[0]: gcc
    /// finds cc1 from argv[0], and a name that PATH resolves to a masquerade link would lead it astray.
    let argv: [String]

    /// `arguments` (compiler name first) with the compiler's full path as argv[0].
    func command(_ arguments: [String]) -> [String] { [path] + arguments.dropFirst() }

    /// Replaces sshcc with the compiler and the original arguments: output and status are its own.
    func execute() -> Int32 {
        let error = Subprocess.exec(executable: path, arguments: command(argv))
        Console.error("sshcc: cannot run \(path): \(error)\n")
        return ExitCode.compilerMissing.rawValue
    }

    enum PreprocessFailure: Error {
        /// The preprocessor failed (a missing header, #error): a local compile reports the file, as it would
        /// without sshcc (the compile errors that follow included); the preprocessor's own messages were held.
        case compilerFailed(status: Int32)
        /// cc1, run without its driver, crashed: the driver is to run it again (a local compile).
        case crashedWithoutDriver
        case io(SystemError)
    }

    /// The preprocessed text and what the preprocessor printed (#warning and friends), to be shown once it
    /// is known to have succeeded.
    struct Preprocessed {
        var text: [UInt8]
        var messages: [UInt8]
    }

    /// The preprocessed source: the file itself if already preprocessed, else `compiler … -E`.
    func preprocess(_ plan: CompilePlan) -> Result<Preprocessed, PreprocessFailure> {
        if plan.sourceIsPreprocessed {
            do { return .success(Preprocessed(text: try Files.read(plan.source), messages: [])) } catch {
                return .failure(.io(error))
            }
        }
        do {
            let result = try Subprocess.run(
                executable: path, arguments: command(plan.preprocessArguments), stdout: .capture, stderr: .capture)
            guard result.status == 0 else {
                return .failure(.compilerFailed(status: result.shellStatus))
            }
            return .success(Preprocessed(text: result.stdout, messages: result.stderr))
        } catch {
            return .failure(.io(error))
        }
    }

    /// `compiler … -E -o PIPE` started now, PIPE being ours (EarlyOutputRun), its messages held; nil when the
    /// plan takes another route (already preprocessed) or this system cannot: `preprocess` then does the
    /// whole run. The preprocessor proper opens `-o` itself and, finding no regular file there, writes in
    /// place (gcc's cc1; clang -cc1 too, checked with clang 21). cc1 runs without the driver when the command
    /// for these flags has been learnt (DirectPreprocessor).
    func startPreprocessor(_ plan: CompilePlan, config: ClientConfig) -> StartedPreprocessor? {
        guard !plan.sourceIsPreprocessed, let messages = HeldOutput() else { return nil }
        let arguments = command(plan.preprocessArguments)
        let direct =
            config.preprocessWithoutDriver
            ? DirectPreprocessor(
                compiler: path, arguments: arguments, source: plan.source, muxDirectory: config.muxPaths.directory)
            : nil
        if let direct, let program = direct.runnable?.program,
            let run = EarlyOutputRun.start(
                executable: program, messages: messages, arguments: direct.arguments(output:))
        {
            return StartedPreprocessor(run: run, messages: messages, withoutDriver: true, learning: nil)
        }
        return EarlyOutputRun.start(executable: path, messages: messages) { output in arguments + ["-o", output] }
            .map { StartedPreprocessor(run: $0, messages: messages, withoutDriver: false, learning: direct) }
    }

    /// A preprocessor started ahead: its text comes as soon as cc1 closes it, its status a little later (once
    /// cc1 and the driver have exited), which lets the text be on its way meanwhile.
    struct StartedPreprocessor {
        var run: EarlyOutputRun
        let messages: HeldOutput
        /// cc1 itself runs, not the driver.
        let withoutDriver: Bool
        /// The driver runs, and what it would run for these flags is still to be learnt.
        let learning: DirectPreprocessor?

        /// The whole text; `each` gets pieces of at least `pieceSize` bytes as they come (EarlyOutputRun.output).
        mutating func text(pieceSize: Int = .max, each: (ArraySlice<UInt8>) -> Void = { _ in })
            -> Result<[UInt8], PreprocessFailure>
        {
            do { return .success(try run.output(pieceSize: pieceSize, each: each)) } catch {
                return .failure(.io(error))
            }
        }

        /// Nil when the preprocessor succeeded; waits for it. cc1 without its driver fails as the driver
        /// would (status 1, its own messages) except when it crashes: the driver would add its report and its
        /// own status, so that is left to a local compile (`.crashedWithoutDriver`).
        mutating func failure() -> PreprocessFailure? {
            let status: Int32
            do { status = try run.wait() } catch { return .io(error) }
            let wait = WaitStatus(status)
            if withoutDriver, wait.exitCode.map({ $0 > 1 }) ?? true { return .crashedWithoutDriver }
            return status == 0 ? nil : .compilerFailed(status: wait.shellStatus)
        }
    }

    /// stderr of the user's own command run here with its outputs thrown away (no object, no .d file);
    /// nil if it could not run.
    func diagnostics() -> [UInt8]? {
        let arguments = ArgScanner.withoutOutputs(Array(argv.dropFirst())) + ["-o", "/dev/null"]
        return (try? Subprocess.run(executable: path, arguments: command([argv[0]] + arguments)))?.stderr
    }
}
