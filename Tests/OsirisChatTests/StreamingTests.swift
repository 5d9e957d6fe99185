import Foundation
import OsirisCore
import OsirisHTTP
import Testing

@testable import OsirisChat

/// Replies streamed as server-sent events: the text arrives piece by piece and the whole is the reply.
@Suite struct StreamingTests {
    func poster() -> JSONPoster {
        JSONPoster(
            transport: CurlTransport(timeouts: HTTPTimeouts(connectMilliseconds: 2000, totalMilliseconds: 10_000)),
            retry: RetryPolicy(attempts: 2, baseDelaySeconds: 0.01))
    }

    let messages = [ChatMessage(role: "user", content: "copy orders")]

    @Test func openAIDeltasArriveInOrderAndMakeTheReply() throws {
        let server = try ModelServer([.openAIStream(["```yaml\n", "name: x\n", "```"])])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster())
        var pieces: [String] = []
        #expect(try client.reply(to: messages, schema: nil, stream: { pieces.append($0) }) == "```yaml\nname: x\n```")
        #expect(pieces == ["```yaml\n", "name: x\n", "```"])
        #expect(server.requests.first?.json["stream"] as? Bool == true)
    }

    @Test func anthropicTextDeltasArriveInOrderAndMakeTheReply() throws {
        let server = try ModelServer([.anthropicStream(["QUESTION: ", "which table?"])])
        defer { server.stop() }
        let client = AnthropicClient(model: "m", baseURL: server.baseURL, apiKey: "k", maxTokens: 10, poster: poster())
        var pieces: [String] = []
        #expect(try client.reply(to: messages, schema: nil, stream: { pieces.append($0) }) == "QUESTION: which table?")
        #expect(pieces == ["QUESTION: ", "which table?"])
    }

    @Test func anErrorBeforeTheStreamShowsNothingAndIsRetried() throws {
        let server = try ModelServer([.status(429, retryAfter: "0"), .openAIStream(["ok"])])
        defer { server.stop() }
        let client = OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 10, poster: poster())
        var pieces: [String] = []
        #expect(try client.reply(to: messages, schema: nil, stream: { pieces.append($0) }) == "ok")
        #expect(pieces == ["ok"])
    }

    @Test func eventsCutAnywhereAreReassembled() {
        var events = ServerSentEvents()
        #expect(events.feed(Array("data: {\"a\"".utf8)) == [])
        #expect(events.feed(Array(":1}\r\n\nevent: x\ndata: [DONE]\n".utf8)) == ["{\"a\":1}", "[DONE]"])
    }

    @Test func aStreamedConversationShowsTheDraftAndEndsClean() throws {
        let server = try ModelServer([.openAIStream([ChatFixtures.fenced(ChatFixtures.goodDraft)])])
        defer { server.stop() }
        var conversation = Conversation(
            client: OpenAIChatClient(model: "m", baseURL: server.baseURL, apiKey: nil, maxTokens: 500, poster: poster()),
            snapshot: try ChatFixtures.snapshot(), connections: nil, session: nil, ask: nil)
        var shown = ""
        conversation.stream = { shown += $0 }
        guard case .oml(let text) = try conversation.run(request: "copy orders to csv") else { Issue.record("refused"); return }
        #expect(text.hasSuffix(ChatFixtures.goodDraft))
        #expect(shown == ChatFixtures.fenced(ChatFixtures.goodDraft) + "\n")
    }
}
