import OsirisCore
import OsirisHTTP
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One message of a conversation with a model.
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user` or `assistant`.
    public var role: String
    /// The text.
    public var content: String

    /// Creates a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A language model that answers a conversation with text (the role of DESIGN.md §9's providers).
public protocol ModelClient: Sendable {
    /// The provider's name as recorded in the OML header: `openai`, `anthropic` or `builtin`.
    var provider: String { get }
    /// The model's name.
    var model: String { get }
    /// Whether the endpoint can be asked for JSON that follows a schema.
    var supportsStructuredOutput: Bool { get }
    /// The model's reply to `messages`; with `schema`, a JSON object that follows it; with `stream`,
    /// asked for as server-sent events whose text is handed to `stream` as it arrives.
    func reply(to messages: [ChatMessage], schema: JSONValue?, stream: ((String) -> Void)?) throws(ChatError) -> String
}

extension ModelClient {
    /// The model's reply to `messages`, free text, not streamed.
    public func reply(to messages: [ChatMessage]) throws(ChatError) -> String { try reply(to: messages, schema: nil, stream: nil) }

    /// The model's reply to `messages`, not streamed.
    public func reply(to messages: [ChatMessage], schema: JSONValue?) throws(ChatError) -> String {
        try reply(to: messages, schema: schema, stream: nil)
    }
}

/// Splits a server-sent event stream into the payloads of its `data:` lines, however the bytes are cut.
package struct ServerSentEvents {
    private var pending: [UInt8] = []

    package init() {}

    /// The payloads completed by `bytes`.
    package mutating func feed(_ bytes: [UInt8]) -> [String] {
        pending.append(contentsOf: bytes)
        var payloads: [String] = []
        while let newline = pending.firstIndex(of: 10) {
            var line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            guard line.hasPrefix("data:") else { continue }
            payloads.append(String(line.dropFirst(5)).trimmingSpaces)
        }
        return payloads
    }

    /// Every payload of a whole stream.
    package static func payloads(_ body: [UInt8]) -> [String] {
        var events = ServerSentEvents()
        return events.feed(body + [10])
    }
}

/// How many times to try, and how long to wait between tries on 429, 5xx and timeouts.
package struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    package var attempts: Int
    /// The first wait in seconds, doubled at each attempt, with up to half of it added at random.
    package var baseDelaySeconds: Double
    /// The longest wait, `Retry-After` included.
    package var maximumDelaySeconds: Double

    package init(attempts: Int = 4, baseDelaySeconds: Double = 1, maximumDelaySeconds: Double = 30) {
        self.attempts = attempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maximumDelaySeconds = maximumDelaySeconds
    }

    /// The wait before attempt `attempt + 1` (`attempt` counts from 1); the server's `Retry-After` wins.
    package func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), maximumDelaySeconds) }
        let exponential = baseDelaySeconds * Double(1 << min(attempt - 1, 10))
        return min(exponential + Double.random(in: 0...(exponential / 2)), maximumDelaySeconds)
    }
}

/// Posts JSON with retries and maps HTTP outcomes to `ChatError`s: 401/403 rejected credentials,
/// 429/5xx and timeouts retried then exhausted, other 4xx refused, nothing at all unreachable.
package struct JSONPoster: Sendable {
    package var transport: any HTTPTransport
    package var retry: RetryPolicy

    package init(transport: any HTTPTransport, retry: RetryPolicy) {
        self.transport = transport
        self.retry = retry
    }

    /// The decoded JSON reply of a successful POST.
    package func post(url: String, headers: [String], body: JSONValue) throws(ChatError) -> JSONValue {
        let reply = try send(url: url, headers: headers, body: body, onData: nil)
        do {
            return try JSONParser.parse(reply)
        } catch {
            throw ChatError.badReply(url: url, reason: error.message)
        }
    }

    /// The body of a successful POST; `onData` sees it as it arrives.
    package func send(url: String, headers: [String], body: JSONValue, onData: (([UInt8]) -> Void)?) throws(ChatError) -> [UInt8] {
        let bytes = Array(JSONWriter.canonicalString(body).utf8)
        var last = ""
        for attempt in 1...max(retry.attempts, 1) {
            var retryAfter: Double? = nil
            do {
                let response = try transport.post(url: url, headers: headers, body: bytes, onData: onData)
                switch response.status {
                case 200..<300:
                    return response.body
                case 401, 403: throw ChatError.credentialsRejected(url: url, status: response.status)
                case 500 where Self.errorMessage(response.body).map(Self.reportsValidationFailure) == true:
                    // llama-cpp-python's server answers a body it cannot validate with 500: the request
                    // is at fault, and sending it again cannot help.
                    throw ChatError.requestRejected(url: url, status: 500, message: Self.errorMessage(response.body) ?? "")
                case 408, 409, 425, 429, 500...599:
                    last = "HTTP \(response.status)\(Self.errorMessage(response.body).map { ": \($0)" } ?? "")"
                    retryAfter = response.retryAfterSeconds
                default:
                    throw ChatError.requestRejected(url: url, status: response.status, message: Self.errorMessage(response.body) ?? "")
                }
            } catch let failure as TransportFailure {
                switch failure {
                case .unreachable(let reason): throw ChatError.unreachable(url: url, reason: reason)
                case .timedOut(let reason): last = reason
                }
            } catch let error as ChatError {
                throw error
            } catch {
                throw ChatError.unreachable(url: url, reason: "\(error)")
            }
            if attempt < retry.attempts {
                let seconds = retry.delay(afterAttempt: attempt, retryAfter: retryAfter)
                if seconds > 0 { usleep(UInt32(seconds * 1_000_000)) }
            }
        }
        throw ChatError.retriesExhausted(url: url, attempts: retry.attempts, last: last)
    }

    /// Whether an error message reports that the request did not validate (pydantic's and FastAPI's
    /// "1 validation error for ...", "2 validation errors:").
    static func reportsValidationFailure(_ message: String) -> Bool {
        message.contains("validation error")
    }

    /// The `error.message` (or `error` text) of an error body, cut short.
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let json = try? JSONParser.parse(body) else {
            let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingSpaces
            return text.isEmpty ? nil : text
        }
        return json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json["message"]?.stringValue
    }
}

/// An OpenAI-compatible chat-completions endpoint: OpenAI, or a local Ollama, vLLM or llama.cpp server.
package struct OpenAIChatClient: ModelClient {
    package let provider = "openai"
    package let model: String
    let baseURL: String
    let apiKey: String?
    let maxTokens: Int
    let poster: JSONPoster
    /// The form of `response_format` the server took last: OpenAI's until the server rejects it.
    let formatStyle = FormatStyleMemory()

    /// The response-format style a server accepts, shared by the copies of one client.
    final class FormatStyleMemory: Sendable {
        let style = TrackedMutex(ResponseFormatStyle.jsonSchema)
    }

    package init(model: String, baseURL: String, apiKey: String?, maxTokens: Int, poster: JSONPoster) {
        self.model = model
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.maxTokens = maxTokens
        self.poster = poster
    }

    package let supportsStructuredOutput = true

    /// The request body of `messages`, with `response_format` when there is a schema and `stream` when streamed.
    package func body(
        _ messages: [ChatMessage], schema: JSONValue?, style: ResponseFormatStyle = .jsonSchema, stream: Bool = false
    ) -> JSONValue {
        var object: [String: JSONValue] = [
            "model": .string(model), "max_tokens": .int(maxTokens), "temperature": .int(0),
            "messages": .array(messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) }),
        ]
        if let schema { object["response_format"] = PipelineSchema.responseFormat(schema, style: style) }
        if stream { object["stream"] = true }
        return .object(object)
    }

    /// The text of one chat-completions stream event.
    static func deltaText(_ payload: String) -> String? {
        guard payload != "[DONE]", let json = try? JSONParser.parse(Array(payload.utf8)) else { return nil }
        return json["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue
    }

    /// With a schema, OpenAI's form is tried first; when the server rejects it (HTTP 400 or 422) the
    /// `json_object` form is tried, and kept for the rest of the run once the server takes it.
    package func reply(to messages: [ChatMessage], schema: JSONValue?, stream: ((String) -> Void)?) throws(ChatError) -> String {
        let style = formatStyle.style.withLock { $0 }
        do {
            return try reply(to: messages, schema: schema, style: style, stream: stream)
        } catch let refusal where schema != nil && style == .jsonSchema && refusal.refusesRequestForm {
            do {
                let text = try reply(to: messages, schema: schema, style: .jsonObject, stream: stream)
                formatStyle.style.withLock { $0 = .jsonObject }
                return text
            } catch let second where second.refusesRequestForm {
                // Neither form: report the first refusal, which names OpenAI's form.
                throw refusal
            }
        }
    }

    func reply(
        to messages: [ChatMessage], schema: JSONValue?, style: ResponseFormatStyle, stream: ((String) -> Void)?
    ) throws(ChatError) -> String {
        let url = baseURL.trimmingTrailingSlashes + "/chat/completions"
        let headers = apiKey.map { ["Authorization: Bearer \($0)"] } ?? []
        if let stream {
            var events = ServerSentEvents()
            let raw = try poster.send(url: url, headers: headers, body: body(messages, schema: schema, style: style, stream: true)) { bytes in
                for payload in events.feed(bytes) { if let text = Self.deltaText(payload) { stream(text) } }
            }
            return ServerSentEvents.payloads(raw).compactMap(Self.deltaText).joined()
        }
        let json = try poster.post(url: url, headers: headers, body: body(messages, schema: schema, style: style))
        guard let content = json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
            throw ChatError.badReply(url: url, reason: "no 'choices[0].message.content'")
        }
        return content
    }
}

/// Anthropic's messages API.
package struct AnthropicClient: ModelClient {
    package let provider = "anthropic"
    package let model: String
    let baseURL: String
    let apiKey: String
    let maxTokens: Int
    let poster: JSONPoster

    package init(model: String, baseURL: String, apiKey: String, maxTokens: Int, poster: JSONPoster) {
        self.model = model
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.maxTokens = maxTokens
        self.poster = poster
    }

    /// The request body of `messages`: system messages go to `system`, the others to `messages`.
    package func body(_ messages: [ChatMessage], stream: Bool = false) -> JSONValue {
        let system = messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        let turns = messages.filter { $0.role != "system" }
        var object: [String: JSONValue] = [
            "model": .string(model), "max_tokens": .int(maxTokens), "temperature": .int(0),
            "messages": .array(turns.map { .object(["role": .string($0.role), "content": .string($0.content)]) }),
        ]
        if !system.isEmpty { object["system"] = .string(system) }
        if stream { object["stream"] = true }
        return .object(object)
    }

    /// The text of one messages stream event (`content_block_delta` with a `text_delta`).
    static func deltaText(_ payload: String) -> String? {
        guard let json = try? JSONParser.parse(Array(payload.utf8)), json["type"]?.stringValue == "content_block_delta" else { return nil }
        return json["delta"]?["text"]?.stringValue
    }

    package let supportsStructuredOutput = false

    /// Anthropic's messages API takes no response schema: `schema` is ignored.
    package func reply(to messages: [ChatMessage], schema: JSONValue?, stream: ((String) -> Void)?) throws(ChatError) -> String {
        let url = baseURL.trimmingTrailingSlashes + "/messages"
        let headers = ["x-api-key: \(apiKey)", "anthropic-version: 2023-06-01"]
        if let stream {
            var events = ServerSentEvents()
            let raw = try poster.send(url: url, headers: headers, body: body(messages, stream: true)) { bytes in
                for payload in events.feed(bytes) { if let text = Self.deltaText(payload) { stream(text) } }
            }
            return ServerSentEvents.payloads(raw).compactMap(Self.deltaText).joined()
        }
        let json = try poster.post(url: url, headers: headers, body: body(messages))
        guard let blocks = json["content"]?.arrayValue else {
            throw ChatError.badReply(url: url, reason: "no 'content' list")
        }
        return blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
    }
}

extension String {
    var trimmingTrailingSlashes: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
