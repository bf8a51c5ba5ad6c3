// Questions sshcc asks sshccd on a channel, framed as ordinary requests so that no protocol version is
// spent: the "compiler" is `sshccd` itself, which no allow-list names, so an sshccd that does not know a
// question refuses it like any unknown compiler (108), and sshcc says the server is too old to answer.

public enum ServerQuery {
    /// The account's latest failures from sshccd's own log (`sshcc doctor`): STAT 0, one line each in SOUT.
    public static let recentFailures = ["sshccd", "--sshcc-recent-failures"]
    /// How many lines that answer holds at most.
    public static let recentFailureLines = 20
    /// The server's load (ServerLoad's text in SOUT, STAT 0): the mux daemon asks it on an idle channel.
    public static let load = ["sshccd", "--sshcc-load"]
}
