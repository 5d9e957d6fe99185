import Synchronization

/// The one place secrets are hidden (DESIGN.md §7.7): every resolved secret is registered as soon as
/// it is read, and every string that leaves the process passes through `mask`, which shows `***`
/// instead. Thread-safe; shared by the whole run.
public final class SecretMasker: Sendable {
    /// What a secret is replaced with.
    public static let replacement = "***"
    /// Secrets shorter than this are not masked: a one-character secret would turn every output to
    /// noise. They are still never written on purpose.
    public static let minimumLength = 2

    private let secrets = TrackedMutex<[String]>([])

    /// An empty masker.
    public init() {}

    /// Registers a secret value; longer secrets are masked first, so one that contains another is
    /// hidden whole.
    public func register(_ secret: String) {
        guard secret.utf8.count >= Self.minimumLength else { return }
        secrets.withLock { list in
            guard !list.contains(secret) else { return }
            list.append(secret)
            list.sort { $0.utf8.count > $1.utf8.count }
        }
    }

    /// Whether any secret is registered.
    public var isEmpty: Bool { secrets.withLock { $0.isEmpty } }

    /// `text` with every registered secret replaced by `***`.
    public func mask(_ text: String) -> String {
        let list = secrets.withLock { $0 }
        guard !list.isEmpty else { return text }
        var result = text
        for secret in list where result.containsBytes(secret) {
            result = result.replacingAll(secret, with: Self.replacement)
        }
        return result
    }

    /// A JSON value with every string in it masked (keys included).
    public func mask(_ value: JSONValue) -> JSONValue {
        if isEmpty { return value }
        switch value {
        case .string(let text): return .string(mask(text))
        case .array(let items): return .array(items.map { mask($0) })
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { result[mask(key)] = mask(member) }
            return .object(result)
        default: return value
        }
    }
}
