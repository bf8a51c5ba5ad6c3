// Source files and helpers shared by the integration tests: a small C/C++ project with a header
// directory, warnings, and an error file; plus running sshcc and gcc side by side in one directory.

import Foundation
import TestSupport
import Testing

enum Fixtures {
    static let header = """
        #ifndef UTIL_H
        #define UTIL_H
        #define SQUARE(x) ((x) * (x))
        struct point { int x, y; };
        static inline int dot(struct point a, struct point b) { return a.x * b.x + a.y * b.y; }
        #endif

        """

    static let cSource = """
        #include <stdio.h>
        #include <string.h>
        #include "util.h"

        static int unused_helper(int a) { return a + 1; }

        int area(struct point p) {
            int scratch;
            return SQUARE(p.x) + dot(p, p);
        }

        int main(int argc, char **argv) {
            struct point p = { argc, (int)strlen(argv[0]) };
            printf("%d\\n", area(p));
            return 0;
        }

        """

    static let cxxSource = """
        #include <iostream>
        #include <vector>
        #include <numeric>
        #include "util.h"

        template <typename T> T total(const std::vector<T> &values) {
            return std::accumulate(values.begin(), values.end(), T{});
        }

        int main() {
            std::vector<int> v{1, 2, 3};
            int unused;
            std::cout << total(v) << std::endl;
            return 0;
        }

        """

    /// No macro expansion on any line that generates code: -g objects are byte-identical (Docs/limitations).
    static let plainC = """
        #include <stdio.h>
        struct pair { int a, b; };
        static int sum(struct pair p) { return p.a + p.b; }
        int main(int argc, char **argv) {
            struct pair p = { argc, (int)argv[0][0] };
            int total = sum(p);
            printf("%d\\n", total);
            return total > 1000;
        }

        """

    static let plainCxx = """
        #include <vector>
        #include <string>
        template <typename T> struct box { T value; T get() const { return value; } };
        int count(const std::vector<std::string> &words) {
            box<int> b{static_cast<int>(words.size())};
            return b.get();
        }

        """

    static let macroError = """
        #define TWICE(x) ((x) + (x))
        int f(int v) { return TWICE(v) + missing_name; }

        """

    static let broken = """
        #include "util.h"
        int f(void) {
            return undefined_thing + 1;
        }
        int g(void) { return "text"; }

        """

    /// A project directory with src/, include/util.h, and out-local/ and out-remote/ for objects.
    static func project() throws -> TemporaryDirectory {
        let project = try TemporaryDirectory("sshcc-project")
        try project.write("include/util.h", header)
        try project.write("src/prog.c", cSource)
        try project.write("src/prog.cpp", cxxSource)
        try project.write("src/broken.c", broken)
        try project.write("src/plain.c", plainC)
        try project.write("src/plain.cpp", plainCxx)
        try project.write("src/macro_error.c", macroError)
        try FileManager.default.createDirectory(atPath: project.path + "/out-local", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: project.path + "/out-remote", withIntermediateDirectories: true)
        return project
    }

    /// A directory holding a `gcc` whose preprocessing (-E) waits until the file `gate` exists in `project`
    /// (a slow header tree, a busy machine), taking it if `takesGate` (one preprocessor per gate); the real
    /// gcc otherwise. Put first on PATH.
    static func gatedPreprocessor(_ project: TemporaryDirectory, takesGate: Bool) throws -> String {
        let script = try project.write(
            "client-bin/gcc",
            """
            #!/bin/sh
            for a in "$@"; do
              if [ "$a" = -E ]; then
                i=0; while [ ! -e '\(project.path)/gate' ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done
                \(takesGate ? "rm -f '\(project.path)/gate'" : ":")
              fi
            done
            exec /usr/bin/gcc "$@"

            """)
        chmod(script, 0o755)
        return project.path + "/client-bin"
    }

    /// Runs `sshcc ARGS` in `directory` with `environment`.
    @discardableResult
    static func sshcc(_ arguments: [String], in directory: String, environment: [String: String]) throws
        -> CommandResult
    {
        var environment = environment
        // Each test gets its own mux daemon, stopped with the directory (TemporaryDirectory.stopMuxDaemon).
        if environment["SSHCC_DIR"] == nil { environment["SSHCC_DIR"] = directory + "/mux" }
        return try Command.run(Products.sshcc, arguments, environment: environment, directory: directory)
    }

    /// Runs the compiler directly, as the local reference, with the same environment.
    @discardableResult
    static func local(_ arguments: [String], in directory: String, environment: [String: String]) throws
        -> CommandResult
    {
        try Command.run(arguments[0], Array(arguments.dropFirst()), environment: environment, directory: directory)
    }
}

/// Records the sshd and sshccd logs when the test has failed so far.
func attachLogsOnFailure(_ server: SSHDServer, _ passed: Bool) {
    if !passed { Issue.record("server logs:\n\(server.logs)") }
}
