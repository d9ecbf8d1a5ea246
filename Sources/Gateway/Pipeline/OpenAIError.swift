import Foundation
import NIOCore

/// Errors in OpenAI's wire format, which OpenAI clients parse; `retryable` says a retry can succeed.
public enum OpenAIError {
    public static func body(type: String, code: String, retryable: Bool = false, message: String) -> ByteBuffer {
        let body: [String: Any] = ["error": ["message": message, "type": type, "code": code, "param": NSNull(), "retryable": retryable]]
        return ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: body)) ?? Data())
    }

    static func streamEvent(code: String, message: String) -> String {
        let body: [String: Any] = ["error": ["message": message, "type": "server_error", "code": code, "retryable": true]]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return "data: " + String(decoding: data, as: UTF8.self) + "\n\n"
    }
}
