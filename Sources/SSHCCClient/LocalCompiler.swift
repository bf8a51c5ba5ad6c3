// The real compiler on this machine: run in place of sshcc (local compile), as the preprocessor, and as
// the renderer of diagnostics with source excerpts.

import CompileCore
import POSIXSupport
import SourceLayout

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
        /// The preprocessor failed (a missing header, #error); its messages are already on stderr.
        case compilerFailed(status: Int32)
        /// cc1, run without its driver, crashed: the driver is to run it again (a local compile).
        case crashedWithoutDriver
        case io(SystemError)
    }

    /// The preprocessed source: the file itself if already preprocessed, else `compiler … -E` (whose stderr
    /// goes straight to ours, so #warning and friends appear as in a local build).
    func preprocess(_ plan: CompilePlan, config: ClientConfig) -> Result<[UInt8], PreprocessFailure> {
        if plan.sourceIsPreprocessed {
            do { return .success(try Files.read(plan.source)) } catch { return .failure(.io(error)) }
        }
        if plan.needsDebugLayout, config.exactDebugLayout,
            let text = preprocessWithDebugLayout(plan, verbose: config.verbose)
        {
            return .success(text)
        }
        do {
            let result = try Subprocess.run(
                executable: path, arguments: command(plan.preprocessArguments), stdout: .capture,
                stderr: .inherit)
            guard result.status == 0 else {
                return .failure(.compilerFailed(status: result.shellStatus))
            }
            return .success(result.stdout)
        } catch {
            return .failure(.io(error))
        }
    }

    /// `compiler … -E -o PIPE` started now, PIPE being ours (EarlyOutputRun), for a plan whose text the plain
    /// run gives; nil when the plan takes another route (already preprocessed, laid out for debugging) or this
    /// system cannot: `preprocess` then does the whole run. The preprocessor proper opens `-o` itself and,
    /// finding no regular file there, writes in place (gcc's cc1; clang -cc1 too, checked with clang 21).
    /// cc1 runs without the driver when the command for these flags has been learnt (DirectPreprocessor).
    func startPreprocessor(_ plan: CompilePlan, config: ClientConfig) -> StartedPreprocessor? {
        guard !plan.sourceIsPreprocessed, !(plan.needsDebugLayout && config.exactDebugLayout) else { return nil }
        let arguments = command(plan.preprocessArguments)
        let direct =
            config.preprocessWithoutDriver
            ? DirectPreprocessor(
                compiler: path, arguments: arguments, source: plan.source, muxDirectory: config.muxPaths.directory)
            : nil
        if let direct, let program = direct.runnable?.program,
            let run = EarlyOutputRun.start(executable: program, arguments: direct.arguments(output:))
        {
            return StartedPreprocessor(run: run, withoutDriver: true, learning: nil)
        }
        return EarlyOutputRun.start(executable: path) { output in arguments + ["-o", output] }
            .map { StartedPreprocessor(run: $0, withoutDriver: false, learning: direct) }
    }

    /// A preprocessor started ahead: its text comes as soon as cc1 closes it, its status a little later (once
    /// cc1 and the driver have exited), which lets the text be on its way meanwhile.
    struct StartedPreprocessor {
        var run: EarlyOutputRun
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

    /// Preprocessed text whose tokens keep the lines and columns a local compile gives them (see
    /// SourceLayout), or nil if anything failed: the caller then runs the plain `-E`, which also reports any
    /// preprocessing error the usual way (this run's messages are held back until it succeeds).
    func preprocessWithDebugLayout(_ plan: CompilePlan, verbose: Bool) -> [UInt8]? {
        guard
            let result = try? Subprocess.run(
                executable: path, arguments: command(plan.preprocessArguments) + ["-dD", "-fdebug-cpp"],
                stdout: .capture, captureLimit: Self.annotatedLimit),
            result.status == 0
        else { return nil }
        guard result.stdout.count < Self.annotatedLimit else {
            if verbose { Console.error("sshcc: \(plan.source): plain preprocessed text (annotations over 256 MB)\n") }
            return nil
        }
        let layout = DebugLayout.relayoutOrExplain(
            result.stdout, keepSystemMacroFlips: plan.warningsAreErrors, readFile: { try? Files.read($0) })
        switch layout {
        case .success(let text):
            try? Console.write(result.stderr, to: .error)
            return text
        case .failure(let failure):
            if verbose { Console.error("sshcc: \(plan.source): plain preprocessed text (debug layout: \(failure))\n") }
            return nil
        }
    }

    /// The most annotated preprocessor output the layout reads (gcc's annotations are 25–35× the text; a
    /// wrapper per parallel job holds its own): beyond it the plain text is sent.
    static let annotatedLimit = 256 << 20

    /// stderr of the user's own command run here with its outputs thrown away (no object, no .d file);
    /// nil if it could not run.
    func diagnostics() -> [UInt8]? {
        let arguments = ArgScanner.withoutOutputs(Array(argv.dropFirst())) + ["-o", "/dev/null"]
        return (try? Subprocess.run(executable: path, arguments: command([argv[0]] + arguments)))?.stderr
    }
}
