// The plain preprocessor run as cc1 itself when what gcc's driver would run for the job's flags is known
// (PreprocessorCache), and learnt from the driver (`-###`) after a job that ran it: the learning runs while
// the job is away on a server, off its critical path, once per flag set, directory and compiler.

import CompileCore
import POSIXSupport

struct DirectPreprocessor {
    let compiler: String
    let template: PreprocessorCommand.Template
    let muxDirectory: String
    let key: String
    /// What the cache held when the job started.
    let known: PreprocessorCache.Learnt?
    /// cc1 and its command (stand-ins in it), when learnt and cc1 is still the file it was.
    let runnable: (program: String, command: [String])?

    /// Nil when the job's command line cannot be templated. Nothing is known while the mux directory is
    /// missing (a first job makes it) or not private to us.
    init?(compiler: String, arguments: [String], source: String, muxDirectory: String) {
        guard let template = PreprocessorCommand.template(arguments, source: source),
            let key = PreprocessorCache.key(compiler: compiler, template: template)
        else { return nil }
        (self.compiler, self.template, self.muxDirectory, self.key) = (compiler, template, muxDirectory, key)
        known = PreprocessorCache.open(in: muxDirectory)?.lookup(key)
        if case .direct(let program, let fingerprint, let command) = known, Files.fingerprint(program) == fingerprint {
            runnable = (program, command)
        } else {
            runnable = nil
        }
    }

    /// cc1's argv writing to `output`; nil when it is not runnable or a stand-in cannot be put back.
    func arguments(output: String) -> [String]? {
        runnable.flatMap { PreprocessorCommand.instantiate($0.command, bindings: template.bindings, output: output) }
    }

    /// Asks the driver what it runs for these flags and keeps the answer, unless that is known already. A
    /// driver that cannot be run leaves nothing behind (the next job asks again).
    func learn() {
        guard known == nil, let cache = PreprocessorCache.open(in: muxDirectory),
            let printed = try? Subprocess.run(
                executable: compiler, arguments: [template.arguments[0], "-###"] + template.arguments.dropFirst())
        else { return }
        guard printed.status == 0,
            let command = PreprocessorCommand.derive(String(decoding: printed.stderr, as: UTF8.self)),
            let fingerprint = Files.fingerprint(command[0])
        else { return cache.store(key, .driver) }
        cache.store(key, .direct(program: command[0], fingerprint: fingerprint, command: command))
    }
}
