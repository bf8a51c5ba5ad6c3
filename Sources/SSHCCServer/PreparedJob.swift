// One job's server-side state from its command line on: the private directory, the plan, the compiler, and —
// when the command line arrives ahead of the source, as sshcc sends it — the compile slot and gcc's two steps
// already started and waiting on stdin, so that process start-up overlaps the client's preprocessing and
// the transfer. Dropping it kills what it started, then removes the directory.

import CompileCore
import ObjectCache
import POSIXSupport
import ServerPolicy

public final class PreparedJob {
    let arguments: [String]
    let directory: String
    let plan: ServerCompile
    let executable: String
    /// Held from `prepare` (when one was free at once) or taken in `run`.
    var slot: JobSlot?
    /// gcc's steps, started ahead (nil: started when the source is there).
    var compile: StartedProcess?
    var assemble: StartedProcess?
    /// The FIFO the first step writes its assembly into (gcc only; made before that step starts).
    var assemblyPipe: AssemblyPipe?
    /// Steps started without the driver (cc1, `as`): 2 when both were.
    var directSteps = 0
    /// Asked for by its source's digest and not in the object cache: the key, held as in flight until the
    /// source has come and been compiled.
    var claimed: (key: CacheKey, inFlight: ObjectStore.InFlight)?

    init(arguments: [String], directory: String, plan: ServerCompile, executable: String) {
        self.arguments = arguments
        self.directory = directory
        self.plan = plan
        self.executable = executable
    }

    deinit {
        // Killed and reaped first: nothing may still write into the directory when it goes.
        compile = nil
        assemble = nil
        assemblyPipe = nil
        Files.removeTree(directory)
    }
}
