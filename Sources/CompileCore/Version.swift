// The version sshcc and sshccd report.
public enum SSHCCVersion {
    public static let string = "0.1.0"
}
