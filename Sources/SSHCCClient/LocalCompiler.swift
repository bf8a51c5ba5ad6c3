// The real compiler on this machine: run in place of sshcc (local compile), as the preprocessor, and as
// the renderer of diagnostics with source excerpts.

import CompileCore
import POSIXSupport

struct LocalCompiler {
    /// Full path of the real compiler.
    let path: String
    /// The user's command line, compiler name first.
    let argv: [String]

    /// Replaces sshcc with the compiler and the original arguments: output and status are its own.
    func execute() -> Int32 {
        let error = Subprocess.exec(executable: path, arguments: argv)
        Console.error("sshcc: cannot run \(path): \(error)\n")
        return ExitCode.compilerMissing.rawValue
    }

    enum PreprocessFailure: Error {
        /// The preprocessor failed (a missing header, #error); its messages are already on stderr.
        case compilerFailed(status: Int32)
        case io(SystemError)
    }

    /// The preprocessed source: the file itself if already preprocessed, else `compiler … -E` (whose stderr
    /// goes straight to ours, so #warning and friends appear as in a local build).
    func preprocess(_ plan: CompilePlan) -> Result<[UInt8], PreprocessFailure> {
        if plan.sourceIsPreprocessed {
            do { return .success(try Files.read(plan.source)) } catch { return .failure(.io(error)) }
        }
        do {
            let result = try Subprocess.run(
                executable: path, arguments: [argv[0]] + plan.preprocessArguments.dropFirst(), stdout: .capture, stderr: .inherit)
            guard result.status == 0 else {
                return .failure(.compilerFailed(status: result.exitCode ?? 128 + (result.signal ?? 0)))
            }
            return .success(result.stdout)
        } catch {
            return .failure(.io(error))
        }
    }

    /// stderr of compiling `preprocessed` here exactly as the server did, output thrown away; nil on failure.
    func diagnostics(for plan: CompilePlan, preprocessed: [UInt8]) -> [UInt8]? {
        let base = Environment.get("TMPDIR") ?? "/tmp"
        guard let directory = try? Files.makeTemporaryDirectory(in: base, prefix: "sshcc-diag-") else { return nil }
        defer { Files.removeTree(directory) }
        guard case .compile(let compile) = ServerArgPolicy.plan(plan.remoteArguments, allowList: CompilerAllowList(names: [PathName.base(argv[0])]), jobDirectory: directory),
            (try? Files.create(compile.inputPath, preprocessed)) != nil,
            let result = try? Subprocess.run(executable: path, arguments: [argv[0]] + compile.arguments, stdout: .capture, stderr: .capture)
        else { return nil }
        return result.stderr
    }
}
