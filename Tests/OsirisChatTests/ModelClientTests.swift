import Foundation
import OsirisCore
import OsirisHTTP
import Testing

@testable import OsirisChat

/// The model clients against the in-suite server: wire formats, retries and the exit status of each failure.
@Suite struct ModelClientTests {
    func poster(attempts: Int = 3) -> JSONPoster {
        JSONPoster(
            transport: CurlTransport(timeouts: HTTPTimeouts(connectMilliseconds: 2000, totalMilliseconds: 10_000)),
            retry: RetryPolicy(attempts: attempts, baseDelaySeconds: 0.01, maximumDelaySeconds: 0.05))
    }

    let conversation = [ChatMessage(role: "system", content: "be brief"), ChatMessage(role: "user", content: "copy orders")]

    @Test func openAIPostsChatCompletionsAndReadsTheMessage() throws {
        let server = try ModelServer([.openAI("hello")])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "tiny", baseURL: server.baseURL, apiKey: "sk-test", maxTokens: 321, poster: poster())
        #expect(try client.reply(to: conversation) == "hello")
        let request = try #require(server.requests.first)
        #expect(request.path == "/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer sk-test")
        #expect(request.json["model"] as? String == "tiny")
        #expect(request.json["max_tokens"] as? Int == 321)
        let messages = try #require(request.json["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "be brief"], ["role": "user", "content": "copy orders"]])
    }

    @Test func anthropicPostsMessagesWithTheSystemApart() throws {
        let server = try ModelServer([.anthropic("hi there")])
        defer { server.stop() }
        let client = AnthropicClient(model: "claude-x", baseURL: server.baseURL, apiKey: "ak-test", maxTokens: 100, poster: poster())
        #expect(try client.reply(to: conversation) == "hi there")
        let request = try #require(server.requests.first)
        #expect(request.path == "/v1/messages")
        #expect(request.headers["x-api-key"] == "ak-test")
        #expect(request.headers["anthropic-version"] == "2023-06-01")
        #expect(request.json["system"] as? String == "be brief")
        #expect(request.json["messages"] as? [[String: String]] == [["role": "user", "content": "copy orders"]])
    }

    @Test func tooManyRequestsThenSuccessRetriesHonouringRetryAfter() throws {
        let server = try ModelServer([.status(429, retryAfter: "0"), .openAI("second time")])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster())
        #expect(try client.reply(to: conversation) == "second time")
        #expect(server.requests.count == 2)
        #expect(server.requests.first?.headers["authorization"] == nil)
    }

    @Test func unauthorizedIsRejectedCredentialsWithoutRetry() throws {
        let server = try ModelServer([.status(401), .openAI("never")])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: "bad", maxTokens: 10, poster: poster())
        let error = #expect(throws: ChatError.self) { try client.reply(to: conversation) }
        #expect(error == .credentialsRejected(url: server.baseURL + "/chat/completions", status: 401))
        #expect(error?.exitStatus == .permissionDenied)
        #expect(server.requests.count == 1)
    }

    @Test func serverErrorsUntilTheAttemptsRunOutAreATemporaryFailure() throws {
        let server = try ModelServer([.status(503, retryAfter: "0"), .status(500), .status(502)])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster(attempts: 3))
        let error = #expect(throws: ChatError.self) { try client.reply(to: conversation) }
        #expect(error?.exitStatus == .temporaryFailure)
        #expect(server.requests.count == 3)
    }

    @Test func aServerErrorReportingAValidationFailureIsARefusalNotRetried() throws {
        let server = try ModelServer([StructuredOutputTests.llamaCppPythonRejection, .openAI("never asked")])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster(attempts: 3))
        let error = #expect(throws: ChatError.self) { try client.reply(to: conversation) }
        guard case .requestRejected(_, let status, let message) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(status == 500)
        #expect(message.hasPrefix("1 validation error:\n"))
        #expect(error?.exitStatus == .failure)
        #expect(server.requests.count == 1)
    }

    func slowPoster(attempts: Int) -> JSONPoster {
        JSONPoster(
            transport: CurlTransport(timeouts: HTTPTimeouts(connectMilliseconds: 1000, totalMilliseconds: 300)),
            retry: RetryPolicy(attempts: attempts, baseDelaySeconds: 0.01, maximumDelaySeconds: 0.05))
    }

    @Test func aReplySlowerThanTheWallClockCapIsRetried() throws {
        let server = try ModelServer([.late(1.5, .openAI("too late")), .openAI("in time")])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: slowPoster(attempts: 2))
        #expect(try client.reply(to: conversation) == "in time")
    }

    @Test func repliesSlowerThanTheWallClockCapUntilTheAttemptsRunOutAreATemporaryFailure() throws {
        let server = try ModelServer([.late(1.5, .openAI("too late"))])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: slowPoster(attempts: 1))
        let error = #expect(throws: ChatError.self) { try client.reply(to: conversation) }
        #expect(error?.exitStatus == .temporaryFailure)
    }

    @Test func nothingListeningIsUnreachable() throws {
        let server = try ModelServer([])
        server.stop()
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster())
        let error = #expect(throws: ChatError.self) { try client.reply(to: conversation) }
        #expect(error?.exitStatus == .unavailable)
    }

    @Test func aRejectedRequestIsAFailureWithTheServersMessage() throws {
        let server = try ModelServer([.status(404)])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster())
        let error = #expect(throws: ChatError.self) { try client.reply(to: conversation) }
        #expect(error == .requestRejected(url: server.baseURL + "/chat/completions", status: 404, message: "scripted 404"))
    }

    @Test func retryAfterWinsOverBackoffAndIsCapped() {
        let policy = RetryPolicy(attempts: 4, baseDelaySeconds: 1, maximumDelaySeconds: 30)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 7) == 7)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 600) == 30)
        let jittered = policy.delay(afterAttempt: 3, retryAfter: nil)
        #expect(jittered >= 4 && jittered <= 6)
    }
}

/// Which provider and model the flags and the environment choose.
@Suite struct ModelSettingsTests {
    func resolve(_ environment: [String: String], provider: String? = nil) throws(ChatError) -> ModelSettings {
        try ModelSettings.resolve(
            provider: provider, model: nil, baseURL: nil, maxTokens: 100, connectTimeoutSeconds: 1, replyTimeoutSeconds: 2,
            environment: environment)
    }

    @Test func nothingConfiguredMeansBuiltin() throws {
        #expect(try resolve([:]).provider == .builtin)
    }

    @Test func keysAndBaseURLChooseTheProvider() throws {
        #expect(try resolve(["OPENAI_API_KEY": "k"]).baseURL == ModelSettings.openAIBaseURL)
        let anthropic = try resolve(["CLAUDE_API_KEY": "c"])
        #expect(anthropic.provider == .anthropic && anthropic.apiKey == "c")
        let local = try resolve(["OSIRIS_LLM_BASE_URL": "http://127.0.0.1:11434/v1", "OSIRIS_LLM_MODEL": "qwen"])
        #expect(local.provider == .openai && local.model == "qwen" && local.apiKey == nil)
        #expect(try resolve(["OPENAI_API_KEY": "k"], provider: "builtin").provider == .builtin)
    }

    @Test func aProviderWithoutKeyOrBaseURLSaysHowToSetOne() {
        let error = #expect(throws: ChatError.self) { try resolve([:], provider: "openai") }
        #expect(error?.exitStatus == .configuration)
        #expect(error?.description.contains("OPENAI_API_KEY") == true)
        #expect(error?.description.contains("--provider builtin") == true)
        let anthropic = #expect(throws: ChatError.self) { try resolve([:], provider: "anthropic") }
        #expect(anthropic?.description.contains("ANTHROPIC_API_KEY") == true)
    }
}
