import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import NodeRuntime
import Testing

@Suite struct EngineSimulatorTests {
    func app(_ configure: (inout EngineSimulator.Settings) -> Void = { _ in }) -> some ApplicationProtocol {
        var settings = EngineSimulator.Settings(model: "acme/sim")
        settings.timeToFirstTokenMillis = 1
        settings.interTokenMillis = 1
        configure(&settings)
        return Application(router: EngineSimulator(settings).router())
    }

    @Test func itAnswersInOpenAIFormatStreamingAndNotAndSaysItIsASimulator() async throws {
        try await app().test(.router) { client in
            let body = ByteBuffer(string: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "one two three"}], "max_tokens": 4}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"], body: body) { response in
                #expect(response.status == .ok)
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect((object?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4)
                #expect((object?["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 3)
                #expect((object?["system_fingerprint"] as? String)?.contains("simulator") == true)
            }
            let streaming = ByteBuffer(string: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"], body: streaming) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = String(buffer: response.body).components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
                #expect(events.count == 5, "3 token chunks, a usage chunk, [DONE]")
                #expect(events.last == "data: [DONE]")
                #expect(events.first?.contains("chat.completion.chunk") == true)
            }
            let unknown = ByteBuffer(string: #"{"model": "other/model", "messages": [{"role": "user", "content": "hi"}]}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: unknown) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                #expect(String(buffer: response.body).replacingOccurrences(of: "\\/", with: "/").contains("\"id\":\"acme/sim\""))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("vllm:generation_tokens_total{model_name=\"acme/sim\"} 7"))
                #expect(text.contains("vllm:num_requests_running") && text.contains("vllm:num_requests_waiting"))
            }
        }
    }

    @Test func faultsAreInjectedOnRequest() async throws {
        try await app { $0.errorRate = 1; $0.hangWarmup = true }.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .serviceUnavailable) }
            let body = ByteBuffer(string: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}]}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: body) { #expect($0.status == .internalServerError) }
        }
        try await app { $0.warmupSeconds = 0 }.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func beyondMaxNumSeqsRequestsWaitInTheQueue() async throws {
        try await app { $0.maxNumSeqs = 1; $0.timeToFirstTokenMillis = 300; $0.interTokenMillis = 50 }.test(.router) { client in
            let body = ByteBuffer(string: #"{"model": "acme/sim", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}"#)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await client.execute(uri: "/v1/chat/completions", method: .post, body: body) { Int($0.status.code) } }
                }
                // The state, polled: with one sequence at a time, one request runs and the other waits.
                var queued = false
                for _ in 0..<300 where !queued {
                    let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                    queued = text.contains("vllm:num_requests_running{model_name=\"acme/sim\"} 1")
                        && text.contains("vllm:num_requests_waiting{model_name=\"acme/sim\"} 1")
                    if !queued { try await Task.sleep(for: .milliseconds(5)) }
                }
                #expect(queued, "the second request waited in the queue while the first ran")
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                #expect(statuses == [200, 200], "and both were answered")
            }
            let after = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(after.contains("vllm:num_requests_waiting{model_name=\"acme/sim\"} 0") && after.contains("vllm:generation_tokens_total{model_name=\"acme/sim\"} 8"))
        }
    }
}
