import Foundation
import NIOCore
@testable import Gateway
import Testing

/// The byte-level helpers on the router's hot path: the model rename and the usage scan.
@Suite struct RouterBodyTests {
    @Test func theModelValueIsSplicedInPlaceAndEverythingElseIsKept() {
        let body = #"{"messages":[{"role":"user","content":"say \"model\": \"stub\""}], "model" : "stub","max_tokens":4}"#
        let renamed = String(buffer: InferenceRouter.renamed(ByteBuffer(string: body), to: "bench/stub"))
        #expect(renamed == #"{"messages":[{"role":"user","content":"say \"model\": \"stub\""}], "model" : "bench/stub","max_tokens":4}"#)
    }

    @Test func aModelWrittenWithEscapesIsRenamedByReEncoding() throws {
        let renamed = InferenceRouter.renamed(ByteBuffer(string: #"{"model":"acme\/old","stream":true}"#), to: "acme/new")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(renamed.readableBytesView)) as? [String: Any])
        #expect(object["model"] as? String == "acme/new" && object["stream"] as? Bool == true)
    }

    @Test func theScanFindsWhereTheModelIsWrittenSoARenameNeedsNoSearch() throws {
        let body = ByteBuffer(string: #"{"tools":[{"model":"nested"}], "model" : "stub","stream":true}"#)
        let scan = try #require(OpenAIRequestScan(body))
        let range = try #require(scan.modelValue)
        #expect(String(buffer: body.getSlice(at: range.lowerBound, length: range.count)!) == "stub")
        // The usage option goes in after the opening brace: the value moves by the inserted length.
        let amended = try #require(OpenAIRequestScan.addingUsageOption(to: body))
        let shift = amended.readableBytes - body.readableBytes
        let moved = (range.lowerBound + shift)..<(range.upperBound + shift)
        let renamed = String(buffer: InferenceRouter.renamed(amended, valueAt: moved, to: "bench/stub"))
        #expect(renamed == #"{"stream_options":{"include_usage":true},"tools":[{"model":"nested"}], "model" : "bench/stub","stream":true}"#)
        // Written with escapes: no place to splice, so the body is re-encoded.
        #expect(OpenAIRequestScan(ByteBuffer(string: #"{"model":"a\/b"}"#))?.modelValue == nil)
    }

    @Test func theLastUsageFiguresAreRead() {
        let stream = ByteBuffer(string: "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: {\"usage\":{\"prompt_tokens\": 25,\"completion_tokens\":8}}\n\ndata: [DONE]\n\n")
        #expect(Accounting.last("prompt_tokens", in: stream) == 25)
        #expect(Accounting.last("completion_tokens", in: stream) == 8)
        #expect(Accounting.last("total_tokens", in: stream) == 0)
        #expect(Accounting.last("prompt_tokens", in: ByteBuffer()) == 0)
    }

    @Test func theScanReadsTopLevelKeysOnlyAndSkipsNestedOnes() throws {
        let body = #"{"tools":[{"type":"function","function":{"parameters":{"model":"nested","stream":true,"x":"}]{"}}}],"messages":[{"role":"user","content":"\"model\": \"no\""}], "model" : "acme/chat", "stream": false , "n": 1.5e3, "stop": null}"#
        let scan = try #require(OpenAIRequestScan(ByteBuffer(string: body)))
        #expect(scan.model == "acme/chat")
        #expect(!scan.streaming && !scan.hasStreamOptions && !scan.includesUsage)
    }

    @Test func theScanReadsStreamingAndTheUsageOption() throws {
        let asked = try #require(OpenAIRequestScan(ByteBuffer(string: #"{"model":"m","stream":true,"stream_options":{"x":[1,{"a":2}],"include_usage":true}}"#)))
        #expect(asked.streaming && asked.hasStreamOptions && asked.includesUsage)
        let escaped = try #require(OpenAIRequestScan(ByteBuffer(string: #"{"model":"acme\/m\u0031","stream":true}"#)))
        #expect(escaped.model == "acme/m1" && escaped.streaming && !escaped.hasStreamOptions)
        let notAString = try #require(OpenAIRequestScan(ByteBuffer(string: #"{"model":42}"#)))
        #expect(notAString.model == nil)
    }

    @Test func whatIsNotOneJSONObjectIsRefused() {
        for body in ["", "[]", "{", #"{"model":"m""#, #"{"model":"m",}"#, #"{"model" "m"}"#, #"{"model":"m"} trailing"#, #"{"messages":[1,2}"#, "null"] {
            #expect(OpenAIRequestScan(ByteBuffer(string: body)) == nil, "\(body)")
        }
        #expect(OpenAIRequestScan(ByteBuffer(string: " { } ")) != nil)
    }

    @Test func theUsageOptionIsInsertedIntoTheBody() throws {
        for body in [#"{"model":"m","stream":true}"#, #" {  } "#] {
            let amended = try #require(OpenAIRequestScan.addingUsageOption(to: ByteBuffer(string: body)))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(amended.readableBytesView)) as? [String: Any])
            #expect((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
            #expect(try #require(OpenAIRequestScan(amended)).includesUsage)
        }
    }

    @Test func endpointsParseIntoAddresses() throws {
        let plain = try #require(UpstreamAddress(endpoint: "http://127.0.0.1:18000"))
        #expect(plain.host == "127.0.0.1" && plain.port == 18000 && plain.pathPrefix == "")
        let prefixed = try #require(UpstreamAddress(endpoint: "http://[::1]:9000/engine/"))
        #expect(prefixed.host == "::1" && prefixed.port == 9000 && prefixed.pathPrefix == "/engine")
        #expect(UpstreamAddress(endpoint: "http://node-1")?.port == 80)
        for bad in ["https://a:1", "http://:80", "http://a:0", "http://a:x", "ftp://a"] { #expect(UpstreamAddress(endpoint: bad) == nil, "\(bad)") }
    }

    @Test func aTraceLineReadsBackAsTheSameTrace() throws {
        let traces = [
            TraceStore.Trace(taskId: "task_01", createdAt: 1_795_460_723_145, modelId: #"acme/"odd"\name"#, projectId: "prj_1", instanceId: "inst_1",
                             streamed: true, queueMillis: 0.012_345, routingMillis: 0.000_01, firstTokenMillis: 1.5, perTokenMillis: 0.25,
                             chunks: 9, totalMillis: 12.75, outcome: "ok"),
            TraceStore.Trace(taskId: "task_02", createdAt: 1, modelId: "m\ttab", projectId: "p", instanceId: nil, streamed: false, queueMillis: 0,
                             routingMillis: 3, firstTokenMillis: nil, perTokenMillis: nil, chunks: 0, totalMillis: 4, outcome: "failed"),
        ]
        for trace in traces {
            var bytes: [UInt8] = []
            trace.appendJSONLine(to: &bytes)
            #expect(bytes.last == 0x0A)
            #expect(try JSONDecoder().decode(TraceStore.Trace.self, from: Data(bytes.dropLast())) == trace)
            // The lookup by task id searches for exactly this.
            #expect(String(decoding: bytes, as: UTF8.self).contains(#""taskId":"\#(trace.taskId)""#))
        }
    }

    @Test func traceSegmentsAreNamedByTheUTCHour() {
        #expect(TraceStore.hour(millis: 1_795_460_723_145) == "2026112319")
        #expect(TraceStore.hour(millis: 0) == "1970010100")
    }
}
