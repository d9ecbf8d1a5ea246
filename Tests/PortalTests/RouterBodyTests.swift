import Foundation
import NIOCore
@testable import Portal
import Testing

/// The byte-level helpers on the router's hot path: the model rename and the usage scan.
@Suite struct RouterBodyTests {
    @Test func theModelValueIsSplicedInPlaceAndEverythingElseIsKept() {
        let body = #"{"messages":[{"role":"user","content":"say \"model\": \"stub\""}], "model" : "stub","max_tokens":4}"#
        let renamed = String(buffer: InferenceRouter.renamed(ByteBuffer(string: body), from: "stub", to: "bench/stub"))
        #expect(renamed == #"{"messages":[{"role":"user","content":"say \"model\": \"stub\""}], "model" : "bench/stub","max_tokens":4}"#)
    }

    @Test func aModelWrittenWithEscapesIsRenamedByReEncoding() throws {
        let renamed = InferenceRouter.renamed(ByteBuffer(string: #"{"model":"acme\/old","stream":true}"#), from: "acme/old", to: "acme/new")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(renamed.readableBytesView)) as? [String: Any])
        #expect(object["model"] as? String == "acme/new" && object["stream"] as? Bool == true)
    }

    @Test func theLastUsageFiguresAreRead() {
        let stream = ByteBuffer(string: "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: {\"usage\":{\"prompt_tokens\": 25,\"completion_tokens\":8}}\n\ndata: [DONE]\n\n")
        #expect(Accounting.last("prompt_tokens", in: stream) == 25)
        #expect(Accounting.last("completion_tokens", in: stream) == 8)
        #expect(Accounting.last("total_tokens", in: stream) == 0)
        #expect(Accounting.last("prompt_tokens", in: ByteBuffer()) == 0)
    }
}
