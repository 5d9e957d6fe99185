import OML
import OsirisCore

/// Fills a step's config with its component spec's `configSchema` defaults, once, when the step's
/// context is built: drivers read every defaulted key from the config and keep no defaults of their own.
///
/// It fills what the compiler fills (`ComponentSpec.fillingDefaults`), so a manifest written by an
/// older compiler, or by hand, gets the same config. A value already present is kept.
public enum ConfigDefaults {
    /// `config` with every missing key that has a spec default filled in; unchanged for unknown components.
    public static func filled(_ config: JSONValue, component: String, registry: ComponentRegistry = .builtin) -> JSONValue {
        guard let spec = registry.spec(named: component), let members = config.objectValue ?? (config == .null ? [:] : nil) else {
            return config
        }
        return .object(spec.fillingDefaults(members))
    }
}
