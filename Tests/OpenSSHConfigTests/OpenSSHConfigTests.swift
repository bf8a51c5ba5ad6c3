// ResolvedHost, Tokens, HopCommand, IdentityOrder ↔ Sources/OpenSSHConfig: reading `ssh -G` output (the
// sample is what OpenSSH 9.2 printed here for a Host block), expanding tokens, the hop process a ProxyJump
// or ProxyCommand becomes, and the order keys are offered in.

import Foundation
import OpenSSHConfig
import Testing

@Suite struct OpenSSHConfigTests {
    static let sample = """
        user bob
        hostname 127.0.0.9
        port 2200
        identitiesonly yes
        serveralivecountmax 3
        serveraliveinterval 15
        identityfile ~/.ssh/k_%h_%r
        identityfile /keys/%u/%n
        certificatefile ~/c.pub
        globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2
        userknownhostsfile /root/kh1 /tmp/kh2
        connecttimeout 7
        proxyjump j@jump:2022,other
        hostkeyalias build-key

        """
    static let values = TokenValues(home: "/home/me", localUser: "me", uid: 1000, localHostName: "desk.lan")

    @Test func readsWhatSshGPrints() throws {
        let host = try ResolvedHost.parse(sshG: Self.sample, alias: "b1")
        #expect(host.hostName == "127.0.0.9" && host.user == "bob" && host.port == 2200 && host.alias == "b1")
        #expect(host.identitiesOnly && host.identityFiles == ["~/.ssh/k_%h_%r", "/keys/%u/%n"])
        #expect(host.certificateFiles == ["~/c.pub"])
        #expect(host.userKnownHostsFiles == ["/root/kh1", "/tmp/kh2"])
        #expect(host.globalKnownHostsFiles == ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"])
        #expect(host.connectTimeout == 7 && host.serverAliveInterval == 15 && host.serverAliveCountMax == 3)
        #expect(host.proxyJump == "j@jump:2022,other" && host.proxyCommand == nil)
        #expect(host.knownHostsName == "build-key")
    }

    @Test func knownHostsNameFollowsOpenSSH() throws {
        var host = try ResolvedHost.parse(sshG: "hostname Build1.LAN\nport 22\nconnecttimeout none\n", alias: "b")
        #expect(host.knownHostsName == "build1.lan" && host.connectTimeout == nil)
        host.port = 2222
        #expect(host.knownHostsName == "[build1.lan]:2222")
    }

    @Test(arguments: ["port 0", "port x", "connecttimeout -1", "serveralivecountmax many"])
    func badValuesAreErrors(_ line: String) {
        #expect(throws: ConfigError.self) { try ResolvedHost.parse(sshG: line + "\n", alias: "b") }
    }

    @Test func tokens() throws {
        let host = try ResolvedHost.parse(sshG: Self.sample, alias: "b1")
        #expect(
            try Tokens.expandPath("~/.ssh/k_%h_%r", host: host, values: Self.values) == "/home/me/.ssh/k_127.0.0.9_bob")
        #expect(
            try Tokens.expandPath("/keys/%u/%n/%d/%i/%l/%L/%p/%k/%%", host: host, values: Self.values)
                == "/keys/me/b1//home/me/1000/desk.lan/desk/2200/build-key/%")
        #expect(try Tokens.expandPath("~", host: host, values: Self.values) == "/home/me")
        #expect(try Tokens.expandPath("x~/y", host: host, values: Self.values) == "x~/y")
        #expect(throws: ConfigError.self) { try Tokens.expandPath("%z", host: host, values: Self.values) }
        #expect(throws: ConfigError.self) { try Tokens.expandPath("trailing%", host: host, values: Self.values) }
        #expect(
            try Tokens.expandCommand("nc %h %p # %r %n %%", host: host, values: Self.values)
                == "nc 127.0.0.9 2200 # bob b1 %")
        #expect(throws: ConfigError.self) { try Tokens.expandCommand("nc %d", host: host, values: Self.values) }
    }

    @Test func hops() throws {
        var host = try ResolvedHost.parse(sshG: Self.sample, alias: "b1")
        #expect(
            try HopCommand.forHost(host, configFile: "/cfg", values: Self.values)
                == .argv([
                    "ssh", "-F", "/cfg", "-o", "BatchMode=yes", "-J", "j@jump:2022", "-W", "127.0.0.9:2200",
                    "ssh://other",
                ]))
        host.proxyJump = "ssh://a@b:1"
        host.hostName = "::1"
        #expect(
            try HopCommand.forHost(host, configFile: nil, values: Self.values)
                == .argv(["ssh", "-o", "BatchMode=yes", "-W", "[::1]:2200", "ssh://a@b:1"]))
        host.proxyCommand = "ssh -W %h:%p bastion"
        #expect(
            try HopCommand.forHost(host, configFile: nil, values: Self.values) == .shell("exec ssh -W ::1:2200 bastion")
        )
        host.proxyCommand = nil
        host.proxyJump = nil
        #expect(try HopCommand.forHost(host, configFile: nil, values: Self.values) == nil)
    }

    @Test func identityOrderIsOpenSSHs() {
        let a: [UInt8] = [1], b: [UInt8] = [2], c: [UInt8] = [3]
        let configured = [
            ConfiguredIdentity(path: "/k/b", publicBlob: b), ConfiguredIdentity(path: "/k/x", publicBlob: nil),
        ]
        // The agent's order; a configured key it holds goes through the agent; the rest of the files after.
        #expect(
            IdentityOrder.plan(configured: configured, agentKeys: [a, b, c], identitiesOnly: false)
                == [
                    .agent(index: 0, file: nil), .agent(index: 1, file: "/k/b"), .agent(index: 2, file: nil),
                    .file("/k/x"),
                ])
        // IdentitiesOnly: never an agent key the configuration does not name.
        #expect(
            IdentityOrder.plan(configured: configured, agentKeys: [a, b, c], identitiesOnly: true)
                == [.agent(index: 1, file: "/k/b"), .file("/k/x")])
        #expect(IdentityOrder.plan(configured: [], agentKeys: [a, b], identitiesOnly: true) == [])
    }

    @Test func anAgentCertificateCountsAsItsIdentity() {
        let key: [UInt8] = [1], certificate: [UInt8] = [9], other: [UInt8] = [2]
        let configured = [ConfiguredIdentity(path: "/k/a", publicBlob: key, certificateBlobs: [certificate])]
        #expect(
            IdentityOrder.plan(configured: configured, agentKeys: [other, certificate, key], identitiesOnly: true)
                == [.agent(index: 1, file: "/k/a"), .agent(index: 2, file: "/k/a")])
        // The agent holds only the certificate: the file is still signed by libssh2 (with its certificate).
        #expect(
            IdentityOrder.plan(configured: configured, agentKeys: [certificate], identitiesOnly: true)
                == [.agent(index: 0, file: "/k/a"), .file("/k/a")])
    }

    /// Certificates made by ssh-keygen (`-s CA -I id -n user`), with their keys.
    static let certificates = [
        (
            "ecdsa-sha2-nistp256-cert-v01@openssh.com",
            "AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgB7hyI8T2IWBiCcDeKHDikH1Jje1IMgChZt9V97RVDUMAAAAIbmlzdHAyNTYAAABBBBkvOiiNqxFZ7ey5hbra2toEkV7zfX8EGlxwoSrxK/eAu/ACjFwoHkLQq31dOiD6+oCn983hzUTpVAF9A6yw8y8AAAAAAAAAAAAAAAEAAAADbWUyAAAACAAAAARyb290AAAAAGsSxrgAAAAAaxLV9AAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIHpblt6l3/8YChFKhjdQYNFGYwYSeHmElNdH3lBy2XOPAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDrzmgIxphfGLuoo2/l1xd9Yk9XMPM63fiHqnb4DBvGspOq8Ur9D6ebkyVgKNvhdumUaw2azzJL6rAG2KOKf1UF",
            "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBkvOiiNqxFZ7ey5hbra2toEkV7zfX8EGlxwoSrxK/eAu/ACjFwoHkLQq31dOiD6+oCn983hzUTpVAF9A6yw8y8=",
            true
        ),
        (
            "ssh-ed25519-cert-v01@openssh.com",
            "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIC1kBwlyLI5hFKnZDLH+srOriVvKcr+jn5VgLubfRXuPAAAAIAyV5wZdrIpcuYpqHw85nriGkwFn98CWxdY2dl/oST18AAAAAAAAAAAAAAABAAAAAm1lAAAACAAAAARyb290AAAAAGsSxrgAAAAAaxLV9AAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIHpblt6l3/8YChFKhjdQYNFGYwYSeHmElNdH3lBy2XOPAAAAUwAAAAtzc2gtZWQyNTUxOQAAAECCHzb41w4otA+oMryXowlG+f7vQM0b0SRQ1JiLu2Q5YnU7BHoHdGiYZiLrRTwrnowEyCD1p05QEtlAGeHroesI",
            "AAAAC3NzaC1lZDI1NTE5AAAAIAyV5wZdrIpcuYpqHw85nriGkwFn98CWxdY2dl/oST18", false
        ),
    ]

    @Test func aCertificateNamesTheKeyItCertifies() throws {
        for (type, certificate, key, signable) in Self.certificates {
            let parsed = try #require(UserCertificate(blob: Array(Data(base64Encoded: certificate)!)))
            #expect(parsed.type == type)
            #expect(parsed.keyBlob == Array(Data(base64Encoded: key)!))
            #expect(parsed.signableByLibssh2 == signable)
        }
        // A plain key, and a truncated certificate, are not certificates.
        let ecdsaKey = Array(Data(base64Encoded: Self.certificates[0].2)!)
        #expect(UserCertificate(blob: ecdsaKey) == nil)
        let full = Array(Data(base64Encoded: Self.certificates[0].1)!)
        #expect(UserCertificate(blob: Array(full.prefix(60))) == nil)
        #expect(UserCertificate(blob: []) == nil)
    }
}
