import CLDAP
import Cryptography
import Foundation

/// One connection to an LDAP or Active Directory server through OpenLDAP's libldap (the CLDAP shim).
/// Every call blocks on the network: use it only on a dedicated worker thread (`BlockingWorkPool`),
/// never on Swift's cooperative pool, and from one thread at a time.
final class LDAPConnection {
    /// How to reach a directory.
    struct Endpoint: Sendable, Equatable {
        /// `ldap://host:port` or `ldaps://host:port`.
        var url: String
        /// Upgrade an `ldap://` connection with StartTLS before binding.
        var startTLS: Bool
        /// PEM bundle of the CAs that may sign the server's certificate (nil: the system's).
        var caFile: String?
        /// Connect and operation timeout.
        var timeoutSeconds: Int = 10
    }

    /// One entry of a search: its DN and the requested attributes' values (names lowercased).
    struct Entry: Sendable, Equatable {
        var dn: String
        var attributes: [String: [String]]

        func first(_ name: String) -> String? { attributes[name.lowercased()]?.first }
        func all(_ name: String) -> [String] { attributes[name.lowercased()] ?? [] }
    }

    private var handle: OpaquePointer?
    private let timeout: Int

    /// Connects (and upgrades with StartTLS when asked); nothing is sent until the first bind or search.
    init(_ endpoint: Endpoint) throws(LDAPError) {
        timeout = endpoint.timeoutSeconds
        guard endpoint.url.hasPrefix("ldap://") || endpoint.url.hasPrefix("ldaps://") else { throw .badURL(endpoint.url) }
        var created: OpaquePointer?
        let initialized = ldap_initialize(&created, endpoint.url)
        guard initialized == LDAP_SUCCESS, let created else { throw .badURL(endpoint.url) }
        handle = created
        var version = LDAP_VERSION3
        ldap_set_option(created, LDAP_OPT_PROTOCOL_VERSION, &version)
        var limit = timeval(tv_sec: endpoint.timeoutSeconds, tv_usec: 0)
        ldap_set_option(created, LDAP_OPT_NETWORK_TIMEOUT, &limit)
        ldap_set_option(created, LDAP_OPT_TIMEOUT, &limit)
        // Referrals would send the bind's credentials to another server: never followed.
        ldap_set_option(created, LDAP_OPT_REFERRALS, nil)
        if let caFile = endpoint.caFile {
            var demand = LDAP_OPT_X_TLS_DEMAND
            ldap_set_option(created, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)
            ldap_set_option(created, LDAP_OPT_X_TLS_CACERTFILE, caFile)
            var server: Int32 = 0
            ldap_set_option(created, LDAP_OPT_X_TLS_NEWCTX, &server)
        }
        if endpoint.startTLS {
            let upgraded = ldap_start_tls_s(created, nil, nil)
            guard upgraded == LDAP_SUCCESS else { throw Self.failure(upgraded, during: "StartTLS") }
        }
    }

    deinit {
        if let handle { ldap_unbind_ext_s(handle, nil, nil) }
    }

    /// A simple bind; false when the server refuses the DN and password (wrong password, no such entry,
    /// or an empty password, which LDAP would take as an unauthenticated bind).
    func bind(dn: String, password: String) throws(LDAPError) -> Bool {
        guard !password.isEmpty else { return false }
        var bytes = Array(password.utf8)
        let code = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var credential = berval(bv_len: ber_len_t(buffer.count), bv_val: UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self))
            return ldap_sasl_bind_s(handle, dn, nil, &credential, nil, nil, nil)
        }
        switch code {
        case LDAP_SUCCESS: return true
        case LDAP_INVALID_CREDENTIALS, LDAP_INAPPROPRIATE_AUTH, LDAP_UNWILLING_TO_PERFORM: return false
        default: throw Self.failure(code, during: "bind")
        }
    }

    /// Every entry under `base` (whole subtree) matching `filter`, read in pages of `pageSize` (RFC 2696),
    /// so a server's size limit does not cut a large directory short.
    func search(base: String, filter: String, attributes: [String], pageSize: Int32 = 500) throws(LDAPError) -> [Entry] {
        var entries: [Entry] = []
        var cookie: [UInt8] = []
        repeat {
            let (page, next) = try searchPage(base: base, filter: filter, attributes: attributes, pageSize: pageSize, cookie: cookie)
            entries.append(contentsOf: page)
            cookie = next
        } while !cookie.isEmpty
        return entries
    }

    private func searchPage(base: String, filter: String, attributes: [String], pageSize: Int32, cookie: [UInt8]) throws(LDAPError) -> ([Entry], [UInt8]) {
        var control: UnsafeMutablePointer<LDAPControl>?
        var cookieBytes = cookie
        let created = cookieBytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var value = berval(bv_len: ber_len_t(buffer.count),
                               bv_val: buffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) })
            if buffer.isEmpty { return ldap_create_page_control(handle, pageSize, nil, 0, &control) }
            return ldap_create_page_control(handle, pageSize, &value, 0, &control)
        }
        guard created == LDAP_SUCCESS, let control else { throw Self.failure(created, during: "paging") }
        defer { ldap_control_free(control) }
        var result: OpaquePointer?
        defer { if let result { ldap_msgfree(result) } }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        let names = attributes.map { strdup($0) } + [nil]
        defer { names.forEach { free($0) } }
        var controls: [UnsafeMutablePointer<LDAPControl>?] = [control, nil]
        let code = names.withUnsafeBufferPointer { attributeList in
            controls.withUnsafeMutableBufferPointer { controlList in
                ldap_search_ext_s(handle, base, LDAP_SCOPE_SUBTREE, filter, UnsafeMutablePointer(mutating: attributeList.baseAddress), 0,
                                  controlList.baseAddress, nil, &limit, 0, &result)
            }
        }
        guard code == LDAP_SUCCESS else { throw Self.failure(code, during: "search of \(base)") }
        var entries: [Entry] = []
        var entry = ldap_first_entry(handle, result)
        while let current = entry {
            entries.append(read(current))
            entry = ldap_next_entry(handle, current)
        }
        return (entries, nextCookie(of: result))
    }

    /// The server's paging cookie for the next page (empty: this was the last).
    private func nextCookie(of result: OpaquePointer?) -> [UInt8] {
        var serverControls: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        var code: Int32 = 0
        guard ldap_parse_result(handle, result, &code, nil, nil, nil, &serverControls, 0) == LDAP_SUCCESS, let serverControls else { return [] }
        defer { ldap_controls_free(serverControls) }
        guard let paging = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, serverControls, nil) else { return [] }
        var count: ber_int_t = 0
        var next = berval(bv_len: 0, bv_val: nil)
        guard ldap_parse_pageresponse_control(handle, paging, &count, &next) == LDAP_SUCCESS, let bytes = next.bv_val else { return [] }
        defer { ber_memfree(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: Int(next.bv_len)))
    }

    private func read(_ entry: OpaquePointer) -> Entry {
        var dn = ""
        if let raw = ldap_get_dn(handle, entry) {
            dn = String(cString: raw)
            ldap_memfree(raw)
        }
        var attributes: [String: [String]] = [:]
        var cursor: OpaquePointer?
        var name = ldap_first_attribute(handle, entry, &cursor)
        while let current = name {
            let key = String(cString: current).lowercased()
            if let values = ldap_get_values_len(handle, entry, current) {
                var index = 0
                var read: [String] = []
                while let value = values[index] {
                    let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
                    read.append(Self.text(bytes, attribute: key))
                    index += 1
                }
                ldap_value_free_len(values)
                attributes[key] = read
            }
            ldap_memfree(current)
            name = ldap_next_attribute(handle, entry, cursor)
        }
        if let cursor { ber_free(cursor, 0) }
        return Entry(dn: dn, attributes: attributes)
    }

    /// A value as text: Active Directory's binary `objectGUID` becomes its canonical GUID string.
    static func text(_ bytes: UnsafeRawBufferPointer, attribute: String) -> String {
        if attribute == "objectguid", bytes.count == 16 {
            let b = Array(bytes)
            // The first three fields are little-endian on the wire.
            let hex = Array(Digest.hex([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]] + b[8...]))
            return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func failure(_ code: Int32, during step: String) -> LDAPError {
        let message = String(cString: ldap_err2string(code))
        switch code {
        case LDAP_SERVER_DOWN, LDAP_CONNECT_ERROR, LDAP_TIMEOUT, LDAP_TIMELIMIT_EXCEEDED, LDAP_BUSY, LDAP_UNAVAILABLE:
            return .unreachable("\(step): \(message)")
        default:
            return .refused(code: Int(code), "\(step): \(message)")
        }
    }

    /// Escapes a value for a search filter (RFC 4515): `*`, `(`, `)`, `\` and NUL become `\XX`.
    static func escapeFilterValue(_ value: String) -> String {
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(contentsOf: Digest.hex([byte]).utf8)
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a directory call failed.
enum LDAPError: Error, Equatable, CustomStringConvertible {
    case badURL(String)
    /// The server could not be reached or did not answer in time: nothing may be concluded from it.
    case unreachable(String)
    /// The server answered with an error.
    case refused(code: Int, String)

    var description: String {
        switch self {
        case .badURL(let url): "not an ldap:// or ldaps:// URL: \(url)"
        case .unreachable(let reason): "directory unreachable (\(reason))"
        case .refused(let code, let reason): "directory refused (LDAP \(code): \(reason))"
        }
    }
}
