-- hola-rudp.lua: a Wireshark/tshark dissector for rudp wire format v1, the reliable
-- datagrams of hola (docs/protocol.md is the normative text; include/rudp/wire.h and
-- src/rudp/core/wire.c the encoder this must agree with). Load it with
--   tshark -X lua_script:tools/wireshark/hola-rudp.lua -r capture.pcap
-- or copy it into Wireshark's personal plugins folder (tools/wireshark/README.md).
--
-- Written for Wireshark 4.0 (Debian 12), whose Lua is 5.2: no native bitwise operators,
-- so bit operations go through bit32 (or LuaBitOp's `bit`, which newer builds keep).

-- Wireshark's own "rudp" is a different protocol (the Cisco Reliable UDP draft), so the
-- filter name must differ: hola_rudp.seq, hola_rudp.crc.status, ...
local p = Proto("hola_rudp", "hola rudp (reliable datagrams over UDP)")

local HEADER = 36
local TRAILER = 4
local MIN_LEN = HEADER + TRAILER
local MAX_SACK = 128
local MAX_PAYLOAD = 1200
local COOKIE = 16

local T_INITIAL, T_RETRY, T_ACCEPT, T_DATA, T_ACK, T_FIN, T_RESET = 1, 2, 3, 4, 5, 6, 7
local F_ACK, F_COALESCED, F_RESERVED = 0x01, 0x02, 0xFC

local type_names = {
    [1] = "INITIAL", [2] = "RETRY", [3] = "ACCEPT", [4] = "DATA",
    [5] = "ACK", [6] = "FIN", [7] = "RESET",
}
local reset_names = { [0] = "UNKNOWN", [1] = "FULL", [2] = "ABORT", [3] = "CLOSED" }
-- Same numbering as Wireshark's own checksum status fields (proto_tree_add_checksum),
-- so a filter reads the same as for IP or UDP: hola_rudp.crc.status == 1 is good.
local crc_status_names = { [0] = "Bad", [1] = "Good" }

local bit = bit32 or bit
local band, bxor, rshift = bit.band, bit.bxor, bit.rshift

---------------------------------------------------------------------------------------
-- Fields

local f = {
    version = ProtoField.uint8("hola_rudp.version", "Version", base.DEC),
    type = ProtoField.uint8("hola_rudp.type", "Type", base.DEC, type_names),
    flags = ProtoField.uint8("hola_rudp.flags", "Flags", base.HEX),
    flag_ack = ProtoField.bool("hola_rudp.flags.ack", "ACK (acknowledgement fields valid)", 8,
        nil, F_ACK),
    flag_coalesced = ProtoField.bool("hola_rudp.flags.coalesced",
        "COALESCED (payload is records, one message each)", 8, nil, F_COALESCED),
    flag_reserved = ProtoField.uint8("hola_rudp.flags.reserved", "Reserved (must be 0)",
        base.HEX, nil, F_RESERVED),
    sack_len = ProtoField.uint8("hola_rudp.sack_len", "SACK length (bytes)", base.DEC),
    cid = ProtoField.uint64("hola_rudp.cid", "Connection ID", base.HEX),
    seq = ProtoField.uint32("hola_rudp.seq", "Sequence number", base.DEC),
    ack = ProtoField.uint32("hola_rudp.ack", "Acknowledgment number (next expected)", base.DEC),
    ts = ProtoField.uint32("hola_rudp.ts", "Timestamp (µs, sender's clock)", base.DEC),
    ts_echo = ProtoField.uint32("hola_rudp.ts_echo", "Timestamp echo (µs, peer's clock)",
        base.DEC),
    ack_delay = ProtoField.uint32("hola_rudp.ack_delay", "ACK delay (µs)", base.DEC),
    rwnd = ProtoField.uint16("hola_rudp.rwnd", "Receive window (packets)", base.DEC),
    payload_len = ProtoField.uint16("hola_rudp.payload_len", "Payload length", base.DEC),

    sack = ProtoField.bytes("hola_rudp.sack", "SACK bitmap"),
    sack_ranges = ProtoField.string("hola_rudp.sack.ranges", "SACK ranges"),
    sack_seq = ProtoField.uint32("hola_rudp.sack.seq", "Selectively acknowledged", base.DEC),
    sack_missing = ProtoField.string("hola_rudp.sack.missing",
        "Missing (ack and the gaps before the highest SACKed)"),
    sack_count = ProtoField.uint16("hola_rudp.sack.count", "Packets selectively acknowledged",
        base.DEC),

    message = ProtoField.string("hola_rudp.message", "Message", base.UNICODE),
    record = ProtoField.bytes("hola_rudp.record", "Record"),
    record_seq = ProtoField.uint32("hola_rudp.record.seq", "Sequence number", base.DEC),
    record_len = ProtoField.uint16("hola_rudp.record.len", "Length", base.DEC),
    records = ProtoField.uint16("hola_rudp.records", "Records", base.DEC),

    cookie = ProtoField.bytes("hola_rudp.cookie", "Cookie"),
    cookie_issued = ProtoField.uint64("hola_rudp.cookie.issued",
        "Issued (µs, server's clock)", base.DEC),
    cookie_mac = ProtoField.uint64("hola_rudp.cookie.mac", "MAC (SipHash-2-4)", base.HEX),
    reset_reason = ProtoField.uint8("hola_rudp.reset_reason", "Reason", base.DEC, reset_names),

    crc = ProtoField.uint32("hola_rudp.crc", "CRC32C", base.HEX),
    crc_computed = ProtoField.uint32("hola_rudp.crc.computed", "Computed CRC32C", base.HEX),
    crc_status = ProtoField.uint8("hola_rudp.crc.status", "CRC32C status", base.DEC,
        crc_status_names),
}
local fields = {}
for _, v in pairs(f) do fields[#fields + 1] = v end
p.fields = fields

local e = {
    bad_crc = ProtoExpert.new("hola_rudp.crc.bad", "Bad CRC32C: the receiver drops this datagram",
        expert.group.CHECKSUM, expert.severity.ERROR),
    bad_length = ProtoExpert.new("hola_rudp.length.bad",
        "Length does not match 36 + sack_len + payload_len + 4",
        expert.group.MALFORMED, expert.severity.ERROR),
    bad_version = ProtoExpert.new("hola_rudp.version.unknown", "Unknown rudp version",
        expert.group.MALFORMED, expert.severity.ERROR),
    bad_type = ProtoExpert.new("hola_rudp.type.unknown", "Unknown packet type",
        expert.group.MALFORMED, expert.severity.ERROR),
    bad_field = ProtoExpert.new("hola_rudp.malformed",
        "Field breaks a rule of docs/protocol.md section 4", expert.group.MALFORMED,
        expert.severity.ERROR),
    reset = ProtoExpert.new("hola_rudp.reset", "Connection reset",
        expert.group.SEQUENCE, expert.severity.WARN),
}
p.experts = { e.bad_crc, e.bad_length, e.bad_version, e.bad_type, e.bad_field, e.reset }

p.prefs.port = Pref.uint("UDP port", 7000,
    "UDP port decoded as rudp without the heuristic (hola's default is 7000; 0 = none)")
p.prefs.heuristic = Pref.bool("Heuristic on all UDP ports", true,
    "Recognise rudp on any port: version 1, type 1..7 and a consistent length. "
    .. "hola-server -P 0 picks a random port, so this is on by default.")

---------------------------------------------------------------------------------------
-- CRC32C (Castagnoli), reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF:
-- the CRC of iSCSI and SCTP, stored big-endian by rudp (section 1.5).

local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if band(c, 1) ~= 0 then
            c = bxor(rshift(c, 1), 0x82F63B78)
        else
            c = rshift(c, 1)
        end
    end
    crc_table[i] = c
end

-- LuaBitOp returns signed 32-bit results; `% 2^32` makes either library's value unsigned.
local function crc32c(s)
    local c = 0xFFFFFFFF
    for i = 1, #s do
        c = bxor(rshift(c, 8), crc_table[band(bxor(c, s:byte(i)), 0xFF)])
    end
    return bxor(c, 0xFFFFFFFF) % 4294967296
end

---------------------------------------------------------------------------------------
-- Helpers

-- Payload length each type may carry (section 3).
local function payload_ok(t, n)
    if t == T_INITIAL then return n == 0 or n == COOKIE end
    if t == T_RETRY then return n == COOKIE end
    if t == T_DATA then return n <= MAX_PAYLOAD end
    if t == T_ACCEPT or t == T_ACK or t == T_FIN then return n == 0 end
    if t == T_RESET then return n == 1 end
    return false
end

-- The Info column shows messages on one line, so control characters are escaped and
-- long messages cut.
local function short_text(s)
    s = s:gsub("[%c]", function(c)
        if c == "\n" then return "\\n" end
        if c == "\r" then return "\\r" end
        if c == "\t" then return "\\t" end
        return string.format("\\x%02x", c:byte())
    end)
    if #s > 40 then
        -- Cut before a UTF-8 continuation byte, never inside a character.
        local cut = 40
        while cut > 1 and s:byte(cut + 1) and band(s:byte(cut + 1), 0xC0) == 0x80 do
            cut = cut - 1
        end
        s = s:sub(1, cut) .. "…"
    end
    return s
end

local function u32_add(a, b) return (a + b) % 4294967296 end

-- Sequence numbers the bitmap acknowledges: bit i (MSB first) is ack + 1 + i.
local function sack_list(bytes, ack)
    local list = {}
    for i = 1, #bytes do
        local b = bytes:byte(i)
        for j = 0, 7 do
            if band(b, rshift(0x80, j)) ~= 0 then
                list[#list + 1] = (i - 1) * 8 + j
            end
        end
    end
    local seqs = {}
    for k, off in ipairs(list) do seqs[k] = { off = off, seq = u32_add(ack, 1 + off) } end
    return seqs
end

-- "5005-5007,5009": consecutive bits joined into ranges, as a student would write them.
local function sack_ranges(seqs)
    local parts, i = {}, 1
    while i <= #seqs do
        local j = i
        while j < #seqs and seqs[j + 1].off == seqs[j].off + 1 do j = j + 1 end
        if j == i then
            parts[#parts + 1] = tostring(seqs[i].seq)
        else
            parts[#parts + 1] = seqs[i].seq .. "-" .. seqs[j].seq
        end
        i = j + 1
    end
    return table.concat(parts, ",")
end

-- The records of a coalesced payload, or nil when they do not fill it exactly.
-- What the receiver still lacks: ack itself and every gap before the highest SACKed number.
local function sack_missing(seqs, ack)
    if #seqs == 0 then return "" end
    -- Offset -1 stands for ack itself: bit i is ack + 1 + i.
    local parts, from = {}, -1
    for _, s in ipairs(seqs) do
        if s.off > from then
            local a, b = u32_add(ack, 1 + from), u32_add(ack, s.off)
            parts[#parts + 1] = (a == b) and tostring(a) or (a .. "-" .. b)
        end
        from = s.off + 1
    end
    return table.concat(parts, ",")
end

-- The bitmap in binary, byte by byte, as section 1.3 draws it (the first 8 bytes).
local function bits_text(raw)
    local out = {}
    for i = 1, math.min(#raw, 8) do
        local b, t = raw:byte(i), {}
        for j = 7, 0, -1 do t[#t + 1] = (band(b, 2 ^ j) ~= 0) and "1" or "0" end
        out[#out + 1] = table.concat(t)
    end
    return table.concat(out, " ") .. (#raw > 8 and " ..." or "")
end

local function split_records(tvb, off, len)
    local recs, pos, stop = {}, off, off + len
    while pos < stop do
        if stop - pos < 2 then return nil end
        local n = tvb(pos, 2):uint()
        if n > stop - pos - 2 then return nil end
        recs[#recs + 1] = { off = pos, len = n }
        pos = pos + 2 + n
    end
    if #recs == 0 then return nil end
    return recs
end

local function utf8_text(tvb, off, len)
    if len == 0 then return "" end
    return tvb(off, len):string(ENC_UTF_8)
end

---------------------------------------------------------------------------------------
-- The dissector

local function dissect(tvb, pinfo, root)
    local len = tvb:len()
    pinfo.cols.protocol = "RUDP"
    local tree = root:add(p, tvb(), "hola rudp")

    if len < MIN_LEN then
        local it = tree:add(tvb(), "Datagram too short: " .. len .. " bytes (minimum 40)")
        it:add_proto_expert_info(e.bad_length)
        pinfo.cols.info = "rudp, too short (" .. len .. " bytes)"
        return len
    end

    local version = tvb(0, 1):uint()
    local vi = tree:add(f.version, tvb(0, 1))
    if version ~= 1 then
        -- A future version may lay out everything else differently (section 4).
        vi:add_proto_expert_info(e.bad_version, "Unknown rudp version " .. version)
        pinfo.cols.info = "rudp version " .. version .. " (unknown)"
        return len
    end

    local t = tvb(1, 1):uint()
    local flags = tvb(2, 1):uint()
    local sack_len = tvb(3, 1):uint()
    local seq = tvb(12, 4):uint()
    local ack = tvb(16, 4):uint()
    local rwnd = tvb(32, 2):uint()
    local payload_len = tvb(34, 2):uint()
    local tname = type_names[t] or ("type " .. t .. " (unknown)")

    tree:append_text(", " .. tname)
    local ti = tree:add(f.type, tvb(1, 1))
    if not type_names[t] then
        ti:add_proto_expert_info(e.bad_type, "Unknown packet type " .. t .. " (valid: 1..7)")
    end

    local fi = tree:add(f.flags, tvb(2, 1))
    local fnames = {}
    if band(flags, F_ACK) ~= 0 then fnames[#fnames + 1] = "ACK" end
    if band(flags, F_COALESCED) ~= 0 then fnames[#fnames + 1] = "COALESCED" end
    if #fnames > 0 then fi:append_text(" (" .. table.concat(fnames, ", ") .. ")") end
    fi:add(f.flag_ack, tvb(2, 1))
    fi:add(f.flag_coalesced, tvb(2, 1))
    local ri = fi:add(f.flag_reserved, tvb(2, 1))
    if band(flags, F_RESERVED) ~= 0 then
        ri:add_proto_expert_info(e.bad_field, "Reserved flag bits set: receivers reject this")
    end
    if band(flags, F_COALESCED) ~= 0 and t ~= T_DATA then
        fi:add_proto_expert_info(e.bad_field, "COALESCED on a type other than DATA")
    end

    local si = tree:add(f.sack_len, tvb(3, 1))
    if sack_len > MAX_SACK then
        si:add_proto_expert_info(e.bad_field, "SACK longer than 128 bytes")
    elseif sack_len > 0 and band(flags, F_ACK) == 0 then
        si:add_proto_expert_info(e.bad_field, "SACK without the ACK flag")
    end

    tree:add(f.cid, tvb(4, 8))
    -- What seq means depends on the type (section 1.1); say it where it is not obvious.
    local seq_note = ({ [T_INITIAL] = " (client's initial sequence number)",
        [T_ACCEPT] = " (server's initial sequence number)",
        [T_ACK] = " (next new number; informational)",
        [T_RETRY] = " (unused)", [T_RESET] = " (unused)" })[t]
    local sq = tree:add(f.seq, tvb(12, 4))
    if seq_note then sq:append_text(seq_note) end
    local has_ack = band(flags, F_ACK) ~= 0
    local ignored = " [no ACK flag: not an acknowledgement]"
    local ai = tree:add(f.ack, tvb(16, 4))
    tree:add(f.ts, tvb(20, 4))
    local ei = tree:add(f.ts_echo, tvb(24, 4))
    local di = tree:add(f.ack_delay, tvb(28, 4))
    if not has_ack then
        ai:append_text(ignored)
        ei:append_text(ignored)
        di:append_text(ignored)
    end
    tree:add(f.rwnd, tvb(32, 2))
    local pi = tree:add(f.payload_len, tvb(34, 2))
    if type_names[t] and not payload_ok(t, payload_len) then
        pi:add_proto_expert_info(e.bad_field, "Payload length " .. payload_len
            .. " is not allowed for " .. tname)
    end

    local info = { tname }
    local want = HEADER + sack_len + payload_len + TRAILER
    if want ~= len then
        -- Nothing after the header can be located reliably; say so and stop.
        local it = tree:add(tvb(HEADER), string.format(
            "Length %d does not match the header: 36 + %d + %d + 4 = %d", len, sack_len,
            payload_len, want))
        it:add_proto_expert_info(e.bad_length)
        pinfo.cols.info = tname .. " [BAD LENGTH]"
        return len
    end

    -- SACK: the raw bitmap, then what it means.
    local sack_text
    if sack_len > 0 then
        local sr = tvb(HEADER, sack_len)
        local st = tree:add(f.sack, sr)
        local raw = sr:raw()
        local seqs = sack_list(raw, ack)
        sack_text = sack_ranges(seqs)
        st:append_text(" = " .. bits_text(raw))
        st:append_text(sack_text ~= "" and (" (acknowledges " .. sack_text .. ")")
            or " (acknowledges nothing)")
        st:add(f.sack_ranges, sr, sack_text):set_generated()
        local missing = sack_missing(seqs, ack)
        if missing ~= "" then
            st:add(f.sack_missing, sr, missing):set_generated()
        end
        st:add(f.sack_count, sr, #seqs):set_generated()
        for _, s in ipairs(seqs) do
            st:add(f.sack_seq, tvb(HEADER + math.floor(s.off / 8), 1), s.seq):set_generated()
        end
    end

    local poff = HEADER + sack_len
    if t == T_DATA then
        info[#info + 1] = "seq=" .. seq
    elseif t == T_INITIAL or t == T_ACCEPT or t == T_FIN then
        info[#info + 1] = "seq=" .. seq
    end
    if band(flags, F_ACK) ~= 0 and t ~= T_RETRY then
        info[#info + 1] = "ack=" .. ack
    end

    if t == T_DATA and band(flags, F_COALESCED) ~= 0 and payload_len > 0 then
        local recs = split_records(tvb, poff, payload_len)
        if recs then
            info[2] = "seq=" .. seq .. (#recs > 1 and ("-" .. u32_add(seq, #recs - 1)) or "")
            local texts = {}
            tree:add(f.records, tvb(poff, payload_len), #recs):set_generated()
            for i, r in ipairs(recs) do
                local rseq = u32_add(seq, i - 1)
                local text = utf8_text(tvb, r.off + 2, r.len)
                local rt = tree:add(f.record, tvb(r.off, 2 + r.len))
                rt:set_text(string.format("Record %d: seq=%d, %d bytes: %s", i, rseq, r.len,
                    r.len > 0 and short_text(text) or "(empty message)"))
                rt:add(f.record_seq, tvb(r.off, 2 + r.len), rseq):set_generated()
                rt:add(f.record_len, tvb(r.off, 2))
                if r.len > 0 then
                    rt:add_packet_field(f.message, tvb(r.off + 2, r.len), ENC_UTF_8)
                else
                    rt:add(f.message, tvb(r.off, 2), ""):set_generated()
                end
                texts[#texts + 1] = "[" .. short_text(text) .. "]"
            end
            info[#info + 1] = "len=" .. payload_len
            if sack_text then info[#info + 1] = "sack=" .. sack_text end
            info[#info + 1] = table.concat(texts, " ")
        else
            local it = tree:add(tvb(poff, payload_len), "Records (malformed)")
            it:add_proto_expert_info(e.bad_field,
                "Records do not fill the payload exactly (section 1.4)")
            info[#info + 1] = "len=" .. payload_len .. " [BAD RECORDS]"
        end
    elseif t == T_DATA then
        local text = utf8_text(tvb, poff, payload_len)
        if payload_len > 0 then
            tree:add_packet_field(f.message, tvb(poff, payload_len), ENC_UTF_8)
        end
        info[#info + 1] = "len=" .. payload_len
        if sack_text then info[#info + 1] = "sack=" .. sack_text end
        info[#info + 1] = "[" .. short_text(text) .. "]"
    else
        if sack_text then info[#info + 1] = "sack=" .. sack_text end
        if (t == T_INITIAL or t == T_RETRY) and payload_len == COOKIE then
            local ct = tree:add(f.cookie, tvb(poff, COOKIE))
            ct:add(f.cookie_issued, tvb(poff, 8))
            ct:add(f.cookie_mac, tvb(poff + 8, 8))
            info[#info + 1] = "cookie"
        elseif t == T_RESET and payload_len == 1 then
            local reason = tvb(poff, 1):uint()
            local rname = reset_names[reason] or (reason .. ", treated as ABORT")
            tree:add(f.reset_reason, tvb(poff, 1)):add_proto_expert_info(e.reset,
                "Connection reset: " .. rname)
            info[#info + 1] = "reason=" .. rname
        elseif payload_len > 0 then
            tree:add(tvb(poff, payload_len), "Payload (" .. payload_len .. " bytes)")
        end
    end
    -- A window matters to a reader of pure ACKs and of the handshake; on DATA and FIN the
    -- message and sequence numbers are what a student follows (the tree keeps rwnd).
    if t == T_INITIAL or t == T_ACCEPT or t == T_ACK then
        info[#info + 1] = "rwnd=" .. rwnd
    end

    -- CRC32C over every byte before the trailer.
    local body = len - TRAILER
    local stored = tvb(body, 4):uint()
    local computed = crc32c(tvb:raw(0, body))
    local ct = tree:add(f.crc, tvb(body, 4))
    local good = stored == computed
    ct:add(f.crc_computed, tvb(body, 4), computed):set_generated()
    ct:add(f.crc_status, tvb(body, 4), good and 1 or 0):set_generated()
    if good then
        ct:append_text(" [correct]")
    else
        ct:append_text(string.format(" [incorrect, should be 0x%08x]", computed))
        ct:add_proto_expert_info(e.bad_crc)
        info[#info + 1] = "[BAD CRC]"
    end

    pinfo.cols.info = table.concat(info, " ")
    return len
end

function p.dissector(tvb, pinfo, root)
    return dissect(tvb, pinfo, root)
end

-- The heuristic: version 1, a known type and an exact length. The CRC is not required,
-- so a corrupted datagram is still shown (with its bad CRC) rather than as plain data.
local function heuristic(tvb, pinfo, root)
    local len = tvb:len()
    if len < MIN_LEN or len > HEADER + MAX_SACK + MAX_PAYLOAD + TRAILER + 0xFFFF then
        return false
    end
    if tvb(0, 1):uint() ~= 1 then return false end
    local t = tvb(1, 1):uint()
    if t < 1 or t > 7 then return false end
    local sack_len = tvb(3, 1):uint()
    if sack_len > MAX_SACK then return false end
    if HEADER + sack_len + tvb(34, 2):uint() + TRAILER ~= len then return false end
    dissect(tvb, pinfo, root)
    return true
end

local udp_port = DissectorTable.get("udp.port")
local bound_port = 0
local function bind_port()
    if bound_port ~= 0 then udp_port:remove(bound_port, p) end
    bound_port = p.prefs.port
    if bound_port ~= 0 then udp_port:add(bound_port, p) end
end

local heuristic_on = false
local function set_heuristic()
    -- Wireshark has no way to unregister a Lua heuristic in 4.0, so it stays registered
    -- and the preference is checked on each call instead.
    if not heuristic_on then
        p:register_heuristic("udp", function(tvb, pinfo, root)
            if not p.prefs.heuristic then return false end
            return heuristic(tvb, pinfo, root)
        end)
        heuristic_on = true
    end
end

function p.prefs_changed()
    bind_port()
end

-- "Decode As... hola_rudp" for any other port (tshark: -d udp.port==PORT,hola_rudp).
udp_port:add_for_decode_as(p)
bind_port()
set_heuristic()
