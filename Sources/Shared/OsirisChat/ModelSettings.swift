import OsirisCore
import OsirisHTTP

/// The model providers of DESIGN.md §9.
public enum ModelProvider: String, Sendable, CaseIterable {
    /// Any OpenAI-compatible chat-completions endpoint.
    case openai
    /// Anthropic's messages API.
    case anthropic
    /// The deterministic planner: no model at all.
    case builtin
}

/// Which model to talk to and how: the flags first, then `OSIRIS_LLM_*` and the API keys.
public struct ModelSettings: Sendable, Equatable {
    /// The provider.
    public var provider: ModelProvider
    /// The model name.
    public var model: String
    /// The endpoint's base URL (ends before `/chat/completions` or `/messages`).
    public var baseURL: String
    /// The API key, when there is one.
    public var apiKey: String?
    /// The most tokens a reply may hold.
    public var maxTokens: Int
    /// Milliseconds allowed to connect.
    public var connectTimeoutMilliseconds: Int
    /// Milliseconds allowed for one reply, the wall-clock cap that stops a model looping.
    public var replyTimeoutMilliseconds: Int

    /// OpenAI's own endpoint.
    public static let openAIBaseURL = "https://api.openai.com/v1"
    /// Anthropic's own endpoint.
    public static let anthropicBaseURL = "https://api.anthropic.com/v1"

    /// How to configure a model, for messages.
    public static let howToConfigure = """
        set OPENAI_API_KEY (OpenAI), ANTHROPIC_API_KEY (Anthropic), or OSIRIS_LLM_BASE_URL / --base-url for a \
        local OpenAI-compatible server such as Ollama (http://127.0.0.1:11434/v1), vLLM or llama.cpp; \
        or use '--provider builtin' for the requests the builtin planner understands
        """

    /// Resolves the settings. With no provider named and no model configured, the provider is builtin.
    public static func resolve(
        provider: String?, model: String?, baseURL: String?, maxTokens: Int, connectTimeoutSeconds: Double,
        replyTimeoutSeconds: Double, environment: [String: String]
    ) throws(ChatError) -> ModelSettings {
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let baseURL = baseURL ?? nonEmpty("OSIRIS_LLM_BASE_URL")
        let openAIKey = nonEmpty("OPENAI_API_KEY")
        let anthropicKey = nonEmpty("ANTHROPIC_API_KEY") ?? nonEmpty("CLAUDE_API_KEY")
        let named = provider ?? nonEmpty("OSIRIS_LLM_PROVIDER")
        let chosen: ModelProvider
        if let named {
            guard let known = ModelProvider(rawValue: named.lowercased()) else {
                throw .modelNotConfigured("unknown provider '\(named)': use openai, anthropic or builtin")
            }
            chosen = known
        } else if baseURL != nil || openAIKey != nil {
            chosen = .openai
        } else if anthropicKey != nil {
            chosen = .anthropic
        } else {
            chosen = .builtin
        }
        var settings = ModelSettings(
            provider: chosen, model: model ?? nonEmpty("OSIRIS_LLM_MODEL") ?? "", baseURL: baseURL ?? "", apiKey: nil,
            maxTokens: maxTokens, connectTimeoutMilliseconds: Int(connectTimeoutSeconds * 1000),
            replyTimeoutMilliseconds: Int(replyTimeoutSeconds * 1000))
        switch chosen {
        case .builtin:
            settings.model = "builtin"
        case .openai:
            settings.apiKey = openAIKey
            if settings.baseURL.isEmpty {
                guard openAIKey != nil else {
                    throw .modelNotConfigured("the openai provider needs OPENAI_API_KEY or a base URL: \(howToConfigure)")
                }
                settings.baseURL = openAIBaseURL
            }
            if settings.model.isEmpty { settings.model = settings.baseURL == openAIBaseURL ? "gpt-4o-mini" : "default" }
        case .anthropic:
            guard let anthropicKey else {
                throw .modelNotConfigured("the anthropic provider needs ANTHROPIC_API_KEY (or CLAUDE_API_KEY): \(howToConfigure)")
            }
            settings.apiKey = anthropicKey
            if settings.baseURL.isEmpty { settings.baseURL = anthropicBaseURL }
            if settings.model.isEmpty { settings.model = "claude-3-5-haiku-latest" }
        }
        return settings
    }

    /// The client these settings describe, or nil for the builtin provider.
    public func makeClient(retryAttempts: Int = 4) -> (any ModelClient)? {
        let poster = JSONPoster(
            transport: CurlTransport(timeouts: HTTPTimeouts(
                connectMilliseconds: connectTimeoutMilliseconds, totalMilliseconds: replyTimeoutMilliseconds)),
            retry: RetryPolicy(attempts: retryAttempts))
        switch provider {
        case .builtin: return nil
        case .openai: return OpenAIChatClient(model: model, baseURL: baseURL, apiKey: apiKey, maxTokens: maxTokens, poster: poster)
        case .anthropic:
            return AnthropicClient(model: model, baseURL: baseURL, apiKey: apiKey ?? "", maxTokens: maxTokens, poster: poster)
        }
    }
}
