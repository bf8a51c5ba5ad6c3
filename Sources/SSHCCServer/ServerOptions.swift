// sshccd's command line. Parsed by hand: the server starts once per channel and idles there, and
// ArgumentParser would add 2.4 ms to each start and double idle memory (measured, Docs/performance.md).

import CompileCore
import DistccWire
import ObjectCache
import POSIXSupport

/// sshccd's settings.
public struct ServerOptions: Equatable, Sendable {
    public var logPath: String
    public var temporaryDirectory: String
    public var allowList = CompilerAllowList()
    public var slots = JobSlotSettings()
    /// Per-job limits of the compiler processes.
    public var limits = ProcessLimits(
        cpuSeconds: 600, memoryBytes: 8 << 30, fileSizeBytes: 512 << 20, wallSeconds: 900)
    /// Limits on what a request may announce (argument count and length, source size).
    public var wireLimits = WireLimits.default
    /// Run compilers in a Landlock sandbox when the kernel has it (`--sandbox auto`, the default).
    public var sandbox = true
    /// Run gcc's cc1 and `as` without their driver, with the command lines `gcc -###` prints
    /// (`--direct-steps auto`, the default; `off` runs every step through the driver).
    public var directSteps = true
    /// Where sshcc's gcc plugins are (`--gcc-plugins`): one per gcc build, each loaded only by the gcc it
    /// was built for (GCCPlugins). /usr/local/lib/sshcc/gcc-plugins by default.
    public var gccPluginDirectory = "/usr/local/lib/sshcc/gcc-plugins"
    /// What a sandboxed compiler may read and execute, besides its own installation and the job directory.
    public var sandboxReadable = ServerOptions.defaultSandboxReadable
    /// Seconds a job got ready ahead of its source (holding a compile slot and started compiler steps) may wait
    /// for the rest of its request before it gives them up (`--source-wait`): a client that sends a command line
    /// and then nothing must not keep a slot from everyone else.
    public var sourceWaitSeconds = 10
    /// A private directory of this account where compilers' toolchain identities are kept between sshccd
    /// processes (`--cache`; nil: `none`, each process computes them). Default: `sshccd-cache-UID` in the
    /// temporary directory.
    public var cacheDirectory: String?
    /// The default `cacheDirectory` for a temporary directory.
    static func defaultCache(in temporaryDirectory: String) -> String {
        temporaryDirectory + "/sshccd-cache-\(CurrentProcess.userID)"
    }
    /// The object cache's top directory (`--objects`; nil: `none`). By default `objects` in the cache
    /// directory: this account's own cache; a root shared by several accounts is the administrator's choice.
    public var objectsRoot: String?
    /// The default `objectsRoot` for a cache directory.
    static func defaultObjects(in cacheDirectory: String?) -> String? { cacheDirectory.map { $0 + "/objects" } }
    /// Whose entries this account's jobs may be answered with (`--objects-share`), and its part's size.
    public var objectsShare = ObjectCacheSettings.Share.own
    public var objectsMaximumBytes = 2 << 30
    /// The object cache's settings, nil when it is off.
    public var objectCache: ObjectCacheSettings? {
        objectsRoot.map { ObjectCacheSettings(root: $0, share: objectsShare, maximumBytes: objectsMaximumBytes) }
    }
    /// The log path as configured, before `%u`/`%h` are expanded (`--status` reads every account's log).
    public var logPattern = ""
    /// The configuration file the settings came from, if one was read.
    public var configFile: String?
    /// Why the configuration file could not be used: every job is then refused with this reason (a server
    /// must not run with settings its administrator did not give it, and sshd discards sshccd's stderr).
    public var configurationProblem: String?

    public static let defaultSandboxReadable = [
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/etc/ld.so.cache",
    ]

    public init(
        logPath: String = ServerOptions.defaultLogPath, temporaryDirectory: String = Environment.get("TMPDIR") ?? "/tmp"
    ) {
        self.logPath = logPath
        self.temporaryDirectory = temporaryDirectory
        cacheDirectory = Self.defaultCache(in: temporaryDirectory)
        objectsRoot = Self.defaultObjects(in: cacheDirectory)
    }

    /// Sets the cache directory; an object cache left at its default follows it.
    mutating func setCache(_ directory: String?) {
        if objectsRoot == Self.defaultObjects(in: cacheDirectory) { objectsRoot = Self.defaultObjects(in: directory) }
        cacheDirectory = directory
    }

    /// `$XDG_STATE_HOME/sshcc/sshccd.log`, else `~/.local/state/sshcc/sshccd.log`.
    public static var defaultLogPath: String {
        let state =
            Environment.get("XDG_STATE_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? Environment.home + "/.local/state"
        return state + "/sshcc/sshccd.log"
    }

    public static let usage = """
        Usage: sshccd [OPTION]...
          or:  sshccd [--config FILE|none] --show-config
          or:  sshccd [--config FILE|none] --status [--json]
          or:  sshccd --version | --help

        Serves distcc compile requests on stdin/stdout, one after another until end of input: protocol 1
        (uncompressed), 2 (LZO), 4 (zstd) and 5 (zstd, the source in pieces); each reply in its request's
        version. Meant to run as an sshd subsystem:  Subsystem sshcc /usr/local/bin/sshccd
        Every option can also be set in /etc/sshcc/sshccd.conf, one per line without its dashes.

          --config FILE|none    settings file: one option per line without its dashes (`jobs 8`), `#` comments;
                                the command line overrides it (default /etc/sshcc/sshccd.conf, if present). It
                                must belong to root or this account and be writable by no one else; a file that
                                is not, or holds a bad line, makes sshccd refuse every job with the reason
          --show-config         print the settings in force, as a configuration file, and exit
          --status [--json]     for the administrator: the machine's compile slots, who holds each (account,
                                client address, key or certificate, file, how long), who waits, and the
                                latest jobs of every account's log (run as root to see other accounts'
                                clients); --json for scripts
          --log FILE            log file (default $XDG_STATE_HOME/sshcc/sshccd.log or ~/.local/state/sshcc/sshccd.log)
          --tmpdir DIR          where private job directories are made (default $TMPDIR or /tmp)
          --cache DIR|none      a private directory (made if missing) where compilers' identities are kept
                                between sshccd processes (default TMPDIR/sshccd-cache-UID)
          --objects DIR|none    the object cache: a job whose toolchain, command lines and preprocessed source
                                match one compiled before is answered with that compile's reply; entries are
                                written only by sshccd from its own compiles, each account in DIR/UID
                                (default CACHE/objects, this account's own; Docs/security.md)
          --objects-share own|all|LIST
                                whose entries this account's jobs may be answered with: its own (default),
                                every account with a part in DIR, or these accounts (names); a hit tells a
                                user that one of them compiled that exact input
          --objects-size MB     the most this account's part holds; least recently used go first (default 2048)
          --compilers LIST      the only compiler names allowed (default gcc,g++,cc,c++,clang,clang++)
          --allow LIST          compiler names allowed in addition to the list
          --jobs N              compiles at once on this machine, across all sshccd processes and users
                                (default: the number of CPUs); more jobs wait for a slot, fairly between users
          --slots NAME          the slot set every sshccd of the machine shares: abstract socket names, nothing
                                on disk, so every account can use it (default sshccd; --slots-dir is the
                                older spelling)
          --min-free-memory MB  jobs also wait while the machine has less memory available (default 256; 0: off)
        Limits (a job over one is stopped, reported to the client, which compiles it locally; 0: no limit):
          --max-source MB       preprocessed source in one request (default 512)
          --max-args N          arguments in one request (default 4096)
          --max-arg-length B    bytes in one argument (default 65536)
          --max-output MB       any file the compiler writes, the object included (default 512)
          --max-memory MB       address space of each compiler process (default 8192)
          --max-cpu S           CPU seconds of the compile (default 600)
          --max-wall S          wall-clock seconds of the compile, slot wait excluded (default 900)
          --source-wait S       seconds a job started ahead of its source keeps its compile slot while the
                                source does not come; then it gives the slot up and queues again (default 10)
        Sandbox (Landlock; Docs/security.md):
          --sandbox auto|off    run each compiler so that it can read and execute only system directories and
                                its own installation, write only its job directory, open no TCP connection
                                (default auto: when the kernel has Landlock)
          --sandbox-read LIST   more directories or files the compiler may read (default /usr, /bin, /sbin,
                                /lib*, /opt, /etc/ld.so.cache)
          --protocols LIST      the protocol versions accepted (default 1,2,4,5,6,7; 1,2,4,5,6 takes no question
                                before the source, 1,2,4,5 sends no load report, 1,2,4 refuses a source in
                                pieces and 1 alone compressed requests, as older sshccd did: clients then send
                                the version before)
          --direct-steps auto|off
                                run gcc's cc1 and as themselves, with the command lines the driver prints for
                                the job's flags (gcc -###, once per flag set): no driver process per step
                                (default auto; off: every step through the driver; clang always is)
          --gcc-plugins DIR     sshcc's gcc plugins, built by Scripts/build-gcc-plugin.sh for each gcc here
                                (default /usr/local/lib/sshcc/gcc-plugins): with one, gcc -g jobs sent as
                                directives-only text give the local object; without, such jobs are refused
                                (their clients compile them locally)
          --inetd, --enable-tcp-insecure
                                accepted and ignored, so sshccd can stand in for `distccd --inetd`
                                (the compiler allow-list is never switched off)
          --version, --help
        """

    public enum Parsed: Equatable {
        case run(ServerOptions)
        /// `--show-config`: print the settings as a configuration file and exit.
        case showConfig(ServerOptions)
        /// `--status [--json]`: print the machine's compile slots, their holders and waiters, recent jobs.
        case status(ServerOptions, json: Bool)
        case help
        case version
    }

    /// Parses arguments (without the program name).
    public static func parse(_ arguments: [String]) throws(UsageError) -> Parsed {
        var options = ServerOptions()
        var index = 0
        func value(_ option: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count, !arguments[index].isEmpty else {
                throw UsageError("\(option) needs a value")
            }
            return arguments[index]
        }
        func count(_ option: String, atLeast minimum: Int) throws(UsageError) -> Int {
            guard let number = Int(try value(option)), number >= minimum, number < 1 << 40 else {
                throw UsageError("\(option) needs a whole number of at least \(minimum)")
            }
            return number
        }
        func names(_ list: String) -> [String] { list.split(separator: ",").map(String.init) }
        var (show, help, version, status, json) = (false, false, false, false, false)
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--log": options.logPath = try value(argument)
            case "--tmpdir":
                // A cache left at its default follows the temporary directory.
                let followed = options.cacheDirectory == ServerOptions.defaultCache(in: options.temporaryDirectory)
                options.temporaryDirectory = try value(argument)
                if followed { options.setCache(ServerOptions.defaultCache(in: options.temporaryDirectory)) }
            case "--cache":
                let path = try value(argument)
                guard path == "none" || path.hasPrefix("/") else {
                    throw UsageError("--cache needs an absolute path or none")
                }
                options.setCache(path == "none" ? nil : path)
            case "--objects":
                let path = try value(argument)
                guard path == "none" || path.hasPrefix("/") else {
                    throw UsageError("--objects needs an absolute path or none")
                }
                options.objectsRoot = path == "none" ? nil : path
            case "--objects-share":
                guard let share = ObjectCacheSettings.share(try value(argument)) else {
                    throw UsageError("--objects-share takes own, all or a list of account names")
                }
                options.objectsShare = share
            case "--objects-size": options.objectsMaximumBytes = try count(argument, atLeast: 1) << 20
            case "--compilers": options.allowList = CompilerAllowList(names: names(try value(argument)))
            case "--allow": options.allowList.names.formUnion(names(try value(argument)))
            case "--jobs":
                guard let count = Int(try value(argument)), (1...4096).contains(count) else {
                    throw UsageError("--jobs needs a number from 1 to 4096")
                }
                options.slots.count = count
            // --slots-dir is the older spelling, from when the set was a directory of lock files.
            case "--slots", "--slots-dir": options.slots.name = try value(argument)
            case "--min-free-memory":
                guard let megabytes = Int(try value(argument)), megabytes >= 0 else {
                    throw UsageError("--min-free-memory needs a number of megabytes")
                }
                options.slots.minimumFreeMemory = megabytes << 20
            case "--max-source": options.wireLimits.maxSourceLength = try count(argument, atLeast: 1) << 20
            case "--max-args": options.wireLimits.maxArgumentCount = try count(argument, atLeast: 2)
            case "--max-arg-length": options.wireLimits.maxArgumentLength = try count(argument, atLeast: 256)
            case "--max-output":
                options.limits.fileSizeBytes = try count(argument, atLeast: 1) << 20
                options.wireLimits.maxObjectLength = options.limits.fileSizeBytes
            case "--max-memory": options.limits.memoryBytes = try count(argument, atLeast: 0) << 20
            case "--max-cpu": options.limits.cpuSeconds = try count(argument, atLeast: 0)
            case "--max-wall": options.limits.wallSeconds = try count(argument, atLeast: 0)
            case "--source-wait": options.sourceWaitSeconds = try count(argument, atLeast: 0)
            case "--sandbox":
                switch try value(argument) {
                case "auto": options.sandbox = true
                case "off": options.sandbox = false
                default: throw UsageError("--sandbox takes auto or off")
                }
            case "--direct-steps":
                switch try value(argument) {
                case "auto": options.directSteps = true
                case "off": options.directSteps = false
                default: throw UsageError("--direct-steps takes auto or off")
                }
            case "--gcc-plugins":
                let path = try value(argument)
                guard path.hasPrefix("/") else { throw UsageError("--gcc-plugins needs an absolute path") }
                options.gccPluginDirectory = path
            case "--sandbox-read":
                let paths = names(try value(argument))
                guard paths.allSatisfy({ $0.hasPrefix("/") }) else {
                    throw UsageError("--sandbox-read needs absolute paths")
                }
                options.sandboxReadable += paths
            case "--protocols":
                let versions = names(try value(argument)).map { UInt32($0).map(DistccVersion.init(rawValue:)) }
                guard !versions.isEmpty, versions.allSatisfy({ $0.map(DistccVersion.supported.contains) ?? false })
                else {
                    throw UsageError("--protocols takes a list of 1, 2, 4, 5, 6 and 7")
                }
                options.wireLimits.versions = Set(versions.compactMap { $0 })
            case "--inetd", "--enable-tcp-insecure", "--no-detach": break
            // Read before the rest (ServerOptions.load); here only its value is stepped over.
            case "--config": _ = try value(argument)
            case "--show-config": show = true
            case "--status": status = true
            case "--json": json = true
            // Answered once the whole line is known to be good: `--help extra` is a mistake, not a question.
            case "--help", "-h": help = true
            case "--version": version = true
            default: throw UsageError("unknown option '\(shown(argument, limit: 60))'")
            }
            index += 1
        }
        if help { return .help }
        if version { return .version }
        if json && !status { throw UsageError("--json goes with --status") }
        if status && show { throw UsageError("--status and --show-config are separate questions: ask one") }
        if status { return .status(options, json: json) }
        return show ? .showConfig(options) : .run(options)
    }
}

/// A bad command line, with the message to print before the usage text.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
