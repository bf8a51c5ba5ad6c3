// Where the object cache lives, whose entries this account takes, and how big its own part may grow.

/// The administrator's choices for the object cache (sshccd `--objects`, `--objects-share`, `--objects-size`).
public struct ObjectCacheSettings: Equatable, Sendable {
    /// The cache's top directory; each account keeps its entries in `ROOT/UID`.
    public var root: String
    /// Whose entries this account's jobs may be answered with.
    public var share: Share
    /// The most this account's part may hold, in bytes (older entries go first).
    public var maximumBytes: Int

    public enum Share: Equatable, Sendable {
        /// Its own only.
        case own
        /// Every account with a part in the root.
        case all
        /// Its own and these accounts'.
        case accounts([String])
    }

    public init(root: String, share: Share = .own, maximumBytes: Int = 2 << 30) {
        (self.root, self.share, self.maximumBytes) = (root, share, maximumBytes)
    }

    /// `own`, `all`, or a comma-separated list of account names; nil when not one of those.
    public static func share(_ text: String) -> Share? {
        switch text {
        case "own": return .own
        case "all": return .all
        default:
            let names = text.split(separator: ",").map(String.init)
            guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else { return nil }
            return .accounts(names)
        }
    }

    public var shareText: String {
        switch share {
        case .own: "own"
        case .all: "all"
        case .accounts(let names): names.joined(separator: ",")
        }
    }
}
