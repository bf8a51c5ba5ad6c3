// HostList ↔ HostSpec.swift: the host-list grammar.

import CompileCore
import Testing

@Suite struct HostSpecTests {
    @Test(arguments: [
        ("build1", HostSpec(host: "build1")),
        ("alice@build1", HostSpec(user: "alice", host: "build1")),
        ("build1:2222", HostSpec(host: "build1", port: 2222)),
        ("build1/8", HostSpec(host: "build1", slots: 8)),
        ("bob@10.0.0.5:22/16", HostSpec(user: "bob", host: "10.0.0.5", port: 22, slots: 16)),
        ("[::1]:2222/2", HostSpec(host: "::1", port: 2222, slots: 2)),
        ("[fe80::1]", HostSpec(host: "fe80::1")),
        ("localhost/3", HostSpec(host: "localhost", slots: 3)),
        ("compile-01.example.org", HostSpec(host: "compile-01.example.org")),
        ("old@farm:2200/6,distccd", HostSpec(user: "old", host: "farm", port: 2200, slots: 6, options: ["distccd"])),
    ])
    func parses(_ text: String, _ expected: HostSpec) throws {
        #expect(try HostList.parseEntry(text) == expected)
        #expect(try HostList.parseEntry(text).runsStockDistccd == text.hasSuffix(",distccd"))
    }

    @Test(arguments: [
        "", "@host", "user@", "host:", "host:0", "host:70000", "host:x", "host/0", "host/x", "host/2000",
        "[::1", "[::1]x", "ho st", "-oProxyCommand=x", "host,nosuch", "host,", "us er@host", "host;rm",
        "host,zstd,lzo", "host,plain,zstd", "host,distccd,zstd",
    ])
    func rejects(_ text: String) {
        #expect(throws: HostSpecError.self) { try HostList.parseEntry(text) }
    }

    @Test(arguments: [
        ("h", BodyCompression.zstd, false), ("h,lzo", .lzo, false), ("h,plain", .plain, false),
        ("h,distccd", .lzo, false), ("h,distccd,plain", .plain, false), ("h,zstd,sshzlib", .zstd, true),
        ("h,plain,sshzlib", .plain, true),
    ])
    func compressionDefaultsToTheBestTheServerSpeaks(_ text: String, _ body: BodyCompression, _ ssh: Bool) throws {
        let spec = try HostList.parseEntry(text)
        #expect(spec.compression == body)
        #expect(spec.compressesConnection == ssh)
    }

    @Test func listWithCommentsAndBlankLines() throws {
        let text = """
            # compile farm
            alice@a:2222/8   b   # second host

            localhost/2\tc/1
            """
        let hosts = try HostList.parse(text)
        #expect(hosts.map(\.host) == ["a", "b", "localhost", "c"])
        #expect(hosts[2].isLocal)
        #expect(!hosts[0].isLocal)
    }

    /// Only a bare `localhost[/N]` is local slots: with a port or a user it is an SSH server (a private sshd
    /// on the developer's machine), and it stays one through its description (how the daemon names it).
    @Test func localhostWithAPortOrUserIsAnSSHHost() throws {
        for text in ["localhost:22", "localhost:2222/2", "me@localhost"] {
            let spec = try HostList.parseEntry(text)
            #expect(!spec.isLocal, "\(text)")
            #expect(try !HostList.parseEntry(spec.description).isLocal, "\(spec.description)")
        }
        #expect(try HostList.parseEntry("localhost:22").description == "localhost:22")
        #expect(try HostList.parseEntry("localhost/2").isLocal)
    }

    /// A bad entry is left out, with its line; the good ones around it stay.
    @Test func badEntriesAreSkippedWithTheirLines() {
        let (specs, problems) = HostList.parseSkippingBad("# farm\nbuild1/6 x:0\n\nbuild2 a,b  # two\nlocalhost/2")
        #expect(specs.map(\.description) == ["build1/6", "build2", "localhost/2"])
        #expect(problems.map(\.line) == [2, 4])
        #expect(problems.map(\.error.entry) == ["x:0", "a,b"])
        #expect(problems.first?.description.hasPrefix("line 2: bad host entry 'x:0': ") == true)
    }

    /// `a,b` reads as host a with an option b: the error says hosts are separated by spaces.
    @Test func commasBetweenHostsGetAHint() {
        #expect(throws: HostSpecError.self) { try HostList.parse("build1,build2") }
        do {
            _ = try HostList.parse("build1,build2")
        } catch {
            #expect(error.reason.contains("hosts are separated by spaces, not commas"))
            #expect(error.reason.contains(",distccd"))
        }
    }

    @Test func errorNamesTheEntry() {
        #expect(throws: HostSpecError(entry: "a:99999", reason: "port must be 1 to 65535")) {
            try HostList.parse("good a:99999")
        }
    }

    @Test func knownHostsNamesFollowOpenSSH() throws {
        #expect(try HostList.parseEntry("h").knownHostsName == "h")
        #expect(try HostList.parseEntry("h:2222").knownHostsName == "[h]:2222")
        #expect(try HostList.parseEntry("u@h:2222/3").description == "u@h:2222/3")
        #expect(try HostList.parseEntry("[::1]:2222").description == "[::1]:2222")
    }
}
