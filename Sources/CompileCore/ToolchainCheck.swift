// How a client's toolchain identity reaches sshccd and how sshccd says it differs: an argument it takes
// out before anything else reads the command line, and a refusal whose words the mux daemon recognises (it
// then sends the job to another host whose compiler matches, or leaves it to a local compile).

public enum ToolchainCheck {
    /// `--sshcc-toolchain=DIGEST SUMMARY`, the last argument of a request to sshccd.
    public static let argumentPrefix = "--sshcc-toolchain="
    /// The start of sshccd's refusal (after its "sshccd: " prefix) when its compiler differs.
    public static let differs = "toolchain differs: "

    /// The refusal's text: this server's compiler and the client's, as people read them.
    public static func refusal(compiler: String, server: String, client: String) -> String {
        differs + "'\(compiler)' here is \(server), the client's is \(client)"
    }

    /// The digest part of an identity's wire form.
    public static func digest(_ wire: String) -> Substring { wire.prefix { $0 != " " } }
    /// The summary part of an identity's wire form.
    public static func summary(_ wire: String) -> Substring { wire.drop { $0 != " " }.dropFirst() }
}
