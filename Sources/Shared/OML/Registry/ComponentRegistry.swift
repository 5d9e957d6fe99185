import OsirisCore
import Synchronization

/// The components this toolchain knows, read from the specs embedded in the library.
///
/// The built-in registry decodes a spec's YAML the first time something asks for that spec, so a tool
/// that starts, prints `--version` or lints a file using two components decodes none or two of them,
/// not all fourteen (about 53 KB of YAML, measured by bench/startup).
public struct ComponentRegistry: Sendable {
    /// The component names, sorted.
    public let names: [String]
    private let storage: Storage

    /// A registry of the given specs.
    package init(specs: [ComponentSpec]) {
        let sorted = specs.sorted { $0.name < $1.name }
        names = sorted.map(\.name)
        var index: [String: ComponentSpec] = [:]
        for spec in sorted { index[spec.name] = spec }
        storage = Storage(texts: [:], decoded: index)
    }

    /// A registry of spec texts, each decoded when first asked for; `texts` pairs each name with its YAML.
    package init(texts: [(name: String, yaml: String)]) {
        names = texts.map(\.name).sorted()
        storage = Storage(texts: Dictionary(texts, uniquingKeysWith: { first, _ in first }), decoded: [:])
    }

    /// The built-in registry. The embedded specs are part of the program, so one that does not decode
    /// is a bug caught by the registry's tests, not a user error.
    public static let builtin = ComponentRegistry(texts: EmbeddedSpecs.all.map { (EmbeddedSpecs.name(of: $0), $0) })

    /// Every spec, sorted by name (decodes the ones not decoded yet).
    public var specs: [ComponentSpec] { names.compactMap { spec(named: $0) } }

    /// The spec of the named component, or nil.
    public func spec(named name: String) -> ComponentSpec? { storage.spec(named: name) }

    /// The names of the specs decoded so far, sorted: what start-up has paid for.
    package var decodedNames: [String] { storage.decodedNames }
}

/// The spec texts and the specs decoded from them so far, shared by every copy of a registry.
private final class Storage: Sendable {
    private let texts: [String: String]
    private let decoded: TrackedMutex<[String: ComponentSpec]>

    init(texts: [String: String], decoded: [String: ComponentSpec]) {
        self.texts = texts
        self.decoded = TrackedMutex(decoded)
    }

    var decodedNames: [String] { decoded.withLock { $0.keys.sorted() } }

    func spec(named name: String) -> ComponentSpec? {
        if let spec = decoded.withLock({ $0[name] }) { return spec }
        guard let text = texts[name] else { return nil }
        // Decoded outside the lock: two threads asking at once may both decode, and the first stored wins.
        let spec: ComponentSpec
        do {
            spec = try ComponentSpec(yaml: text)
        } catch {
            preconditionFailure("embedded component spec '\(name)' does not decode: \(error)")
        }
        return decoded.withLock { specs in
            if let stored = specs[name] { return stored }
            specs[name] = spec
            return spec
        }
    }
}

extension EmbeddedSpecs {
    /// The component name an embedded spec declares on its first line (`name: postgres.extractor`),
    /// read without decoding the YAML; the registry's tests check it against the decoded name.
    static func name(of text: String) -> String {
        let firstLine = text.utf8.prefix { $0 != UInt8(ascii: "\n") }
        let prefix = "name: ".utf8
        guard firstLine.starts(with: prefix) else { return "" }
        return String(decoding: firstLine.dropFirst(prefix.count), as: UTF8.self)
    }
}
