import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOConcurrencyHelpers
import Testing

/// The walkthrough's day 14: a hot-swap under steady load drops nothing.
@Suite(.serialized) struct HotSwapTests {
    @Test func aHotSwapUnderSteadyLoadDropsNoConnectionAndFailsNoRequest() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)").path
        for model in ["acme--chat-q8", "acme--chat-q4"] {
            try FileManager.default.createDirectory(atPath: store + "/" + model, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: store + "/\(model)/w.bin", contents: Data(count: 512))
        }
        let world = try await RouterWorld.make(store: store)
        defer { world.stop(); try? FileManager.default.removeItem(atPath: store) }
        let old = try await world.run("acme/chat-q8", engine: "engine-sim", arguments: ["--ttft-ms", "20", "--itl-ms", "10"])

        // Four clients keep requests going, streaming and not, through the whole swap.
        let results = NIOLockedValueBox<[(ok: Bool, millis: Double, at: ContinuousClock.Instant, instance: String, detail: String)]>([])
        let stop = NIOLockedValueBox(false)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var turn = 0
                        while !stop.withLockedValue({ $0 }) {
                            turn += 1
                            let streaming = (client + turn) % 2 == 0
                            let started = ContinuousClock.now
                            var request = HTTPClientRequest(url: world.controller.baseURL + "/v1/chat/completions")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(world.apiKey)")
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(string: #"{"model": "acme/chat-q8", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "stream": \#(streaming)}"#))
                            var ok = false
                            var instance = ""
                            var detail = ""
                            do {
                                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                                instance = response.headers.first(name: "X-Metalplane-Instance") ?? ""
                                let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                                ok = response.status == .ok && !body.contains("\"error\"") && (!streaming || body.contains("[DONE]"))
                                detail = "\(response.status.code) \(body.prefix(200))"
                            } catch {
                                detail = "\(error)"
                            }
                            let elapsed = ContinuousClock.now - started
                            let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                            results.withLockedValue { $0.append((ok, millis, ContinuousClock.now, instance, detail)) }
                        }
                    }
                }
            }
        }
        // Counts, not times: a loaded CI machine runs fewer requests per second, not fewer per phase.
        _ = try await eventually(30) { results.withLockedValue { $0.count >= 8 } ? true : nil }
        let swapStarted = ContinuousClock.now
        let started = try await world.controller.call(.POST, "/api/v1/instances/\(old)/swap", bearer: world.admin, json: #"{"modelId": "acme/chat-q4"}"#)
        #expect(started.status == 202, "\(started.json)")
        let swapID = try #require(started.json["id"] as? String)
        let finished = try await eventually(30) { () -> [String: Any]? in
            let swap = try await world.controller.call(.GET, "/api/v1/swaps/\(swapID)", bearer: world.admin).json
            return ["done", "failed"].contains(swap["phase"] as? String ?? "") ? swap : nil
        }
        let doneAt = ContinuousClock.now
        _ = try await eventually(30) { results.withLockedValue { list in list.filter { $0.at > doneAt }.count >= 8 } ? true : nil }
        stop.withLockedValue { $0 = true }
        await load.value
        #expect(finished?["phase"] as? String == "done", "\(finished ?? [:])")

        let all = results.withLockedValue { $0 }
        let failures = all.filter { !$0.ok }
        #expect(failures.isEmpty, "\(failures.count) of \(all.count) requests failed: \(failures.prefix(3).map(\.detail))")
        #expect(all.filter { $0.at < swapStarted }.count >= 8 && all.filter { $0.at > doneAt }.count >= 8, "steady load: \(all.count) requests")
        #expect(all.contains { $0.at > swapStarted && $0.at < doneAt }, "requests went on during the swap")
        let newInstance = try #require(finished?["toInstance"] as? String)
        #expect(all.last?.instance == newInstance, "traffic moved to the new instance")
        #expect(try await world.controller.call(.GET, "/api/v1/instances/\(old)", bearer: world.admin).json["desired"] as? String == "stopped")
        // The elevated-latency window: requests slower than twice the median before the swap.
        let before = all.filter { $0.at < swapStarted }.map(\.millis).sorted()
        let median = before.isEmpty ? 0 : before[before.count / 2]
        let slow = all.filter { $0.at >= swapStarted && $0.millis > 2 * median }
        // The walkthrough's promise: at most a 30–90 s window of elevated latency, and a health check within budget.
        let window = slow.isEmpty ? Duration.zero : slow.map(\.at).max()! - slow.map(\.at).min()!
        #expect(window <= .seconds(90), "elevated latency for \(window), past the walkthrough's 90 s")
        #expect((finished?["healthMillis"] as? Double).map { $0 <= 5000 } == true, "health check within the 5 s budget: \(finished ?? [:])")
        print("hot-swap: \(all.count) requests, 0 failed; median before \(String(format: "%.1f", median)) ms; \(slow.count) slower than 2× during the swap; health check \(finished?["healthMillis"] ?? "?") ms")
    }
}
