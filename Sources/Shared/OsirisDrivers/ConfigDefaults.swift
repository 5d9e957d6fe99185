import OML
import OsirisCore

/// Fills a step's config with its component spec's `configSchema` defaults, once, when the step's
/// context is built: drivers read every defaulted key from the config and keep no defaults of their own.
///
/// Like the compiler, it leaves out connection fields (a default `host` would override the
/// connection's), secrets, legacy alias keys and `connection`. A value already present, even one
/// the compiler filled, is kept.
public enum ConfigDefaults {
    /// `config` with every missing key that has a spec default filled in; unchanged for unknown components.
    public static func filled(_ config: JSONValue, component: String, registry: ComponentRegistry = .builtin) -> JSONValue {
        guard let spec = registry.spec(named: component), var members = config.objectValue ?? (config == .null ? [:] : nil) else {
            return config
        }
        let connectionFields = Set(spec.connectionFields.map(\.name))
        let legacy = Set(spec.aliases.keys)
        for (name, property) in spec.configSchema.properties {
            guard members[name] == nil || members[name] == .null, let value = property.defaultValue, value != .null,
                  !connectionFields.contains(name), !spec.secretKeys.contains(name), !legacy.contains(name), name != "connection"
            else { continue }
            members[name] = value
        }
        return .object(members)
    }
}
