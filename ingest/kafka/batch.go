package kafka

import (
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/compress/snappy"

	"github.com/culprit-dev/culprit/internal/record"
)

// The shipper writes Kafka's record batch format (v2, the only one brokers
// since 0.11 store) itself instead of through kafka-go's protocol.RecordSet:
// that one copies every key, value and header through an io.Reader, one
// small write at a time into the compressor, and re-derives the ten headers
// per line; it was a quarter of the shipper's CPU (`culprit ship
// --cpuprofile` under scripts/bench/shipper.sh). Here the headers that do
// not change within a file's run of lines are encoded once per run, a
// record is appended to one buffer, and the buffer is compressed in one
// call. The bytes are what kafka-go would send; producer_test.go decodes
// them with kafka-go's reader for every codec.

// batchHeaderLen is the v2 batch header: base offset (8), batch length (4),
// partition leader epoch (4), magic (1), crc (4), attributes (2), last
// offset delta (4), first and max timestamp (8+8), producer id (8), epoch
// (2), base sequence (4), record count (4).
const batchHeaderLen = 61

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// codecFor returns the compression codec for a batch, nil for none. Snappy
// uses the fast encoder (the one librdkafka's C snappy matches): the wire
// format is the same xerial-framed snappy kafka-go writes, but kafka-go's
// default "better" encoder spent a third of the shipper's CPU for a few
// percent smaller batches on a local network.
func codecFor(c compress.Compression) compress.Codec {
	switch c {
	case 0:
		return nil
	case compress.Snappy:
		return &snappy.Codec{Framing: snappy.Framed, Compression: snappy.FasterCompression}
	}
	return c.Codec()
}

// scratch holds the uncompressed records of one batch while it is built;
// Prepare (the send loop) and Write (a retry) may encode concurrently.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// outPool recycles encoded batches once Kafka acknowledged them (the
// request was written): allocating and zeroing a fresh one per batch was a
// tenth of the CPU with the collector's share.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}

// releaseBatch returns an encoded batch nobody reads any more.
func releaseBatch(b []byte) {
	b = b[:0]
	outPool.Put(&b)
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// encodeBatch returns lines as one record batch preceded by its 4-byte size,
// as RawProduce sends it. Lines keep their order: offset delta i is lines[i].
func encodeBatch(lines []record.Line, codec compress.Codec) ([]byte, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	var recs []byte
	var sp *[]byte
	out := (*outPool.Get().(*[]byte))[:4+batchHeaderLen]
	clear(out)
	if codec == nil {
		recs = out // records follow the header directly
	} else {
		sp = scratch.Get().(*[]byte)
		recs = (*sp)[:0]
	}
	now := time.Now()
	base := stamp(&lines[0], now)
	maxTS := base
	var (
		prev     *record.Line
		key      []byte
		static   []byte // encoded headers that repeat within a run
		nStatic  int
		readAt   time.Time
		readTime []byte
		rec      []byte // one record's body, before its length
	)
	for i := range lines {
		l := &lines[i]
		if prev == nil || !sameProvenance(prev, l) {
			key = l.Key()
			static, nStatic = static[:0], 0
			for _, h := range l.Headers() {
				if h.Key != record.HeaderOffset && h.Key != record.HeaderReadTime {
					static = appendString(static, h.Key)
					static = appendBytes(static, h.Value)
					nStatic++
				}
			}
		}
		if prev == nil || !l.ReadTime.Equal(readAt) {
			readAt = l.ReadTime
			readTime = l.ReadTime.UTC().AppendFormat(readTime[:0], time.RFC3339Nano)
		}
		prev = l
		ts := stamp(l, now)
		maxTS = max(maxTS, ts)
		rec = append(rec[:0], 0) // record attributes
		rec = binary.AppendVarint(rec, ts-base)
		rec = binary.AppendVarint(rec, int64(i))
		rec = appendBytes(rec, key)
		if l.Value == nil {
			rec = binary.AppendVarint(rec, -1)
		} else {
			rec = appendBytes(rec, l.Value)
		}
		rec = binary.AppendVarint(rec, int64(nStatic+2))
		rec = appendString(rec, record.HeaderOffset)
		var num [20]byte
		rec = appendBytes(rec, strconv.AppendInt(num[:0], l.Offset, 10))
		rec = appendString(rec, record.HeaderReadTime)
		rec = appendBytes(rec, readTime)
		rec = append(rec, static...)
		recs = binary.AppendVarint(recs, int64(len(rec)))
		recs = append(recs, rec...)
	}
	var attrs int16
	if codec == nil {
		out = recs
	} else {
		attrs = int16(codec.Code())
		w := &appendWriter{b: out}
		zw := codec.NewWriter(w)
		_, err := zw.Write(recs)
		if err == nil {
			err = zw.Close()
		}
		*sp = recs[:0]
		scratch.Put(sp)
		if err != nil {
			return nil, err
		}
		out = w.b
	}
	h := out[4 : 4+batchHeaderLen]
	be := binary.BigEndian
	be.PutUint32(out[0:4], uint32(len(out)-4))
	be.PutUint64(h[0:], 0)                     // base offset: the broker assigns
	be.PutUint32(h[8:], uint32(len(out)-4-12)) // batch length: after this field
	be.PutUint32(h[12:], 0xffffffff)           // partition leader epoch: none
	h[16] = 2                                  // magic
	be.PutUint16(h[21:], uint16(attrs))
	be.PutUint32(h[23:], uint32(len(lines)-1))
	be.PutUint64(h[27:], uint64(base))
	be.PutUint64(h[35:], uint64(maxTS))
	be.PutUint64(h[43:], 0xffffffffffffffff) // producer id: not idempotent
	be.PutUint16(h[51:], 0xffff)             // producer epoch
	be.PutUint32(h[53:], 0xffffffff)         // base sequence
	be.PutUint32(h[57:], uint32(len(lines)))
	be.PutUint32(h[17:], crc32.Checksum(out[4+21:], castagnoli))
	return out, nil
}

// stamp is the record timestamp: the read time in milliseconds, or now for
// a line without one (as kafka-go does), which would otherwise be year 1.
func stamp(l *record.Line, now time.Time) int64 {
	if l.ReadTime.IsZero() {
		return now.UnixMilli()
	}
	return l.ReadTime.UnixMilli()
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendVarint(b, int64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendVarint(b, int64(len(s)))
	return append(b, s...)
}

// estimate is an upper bound guess of lines' encoded size, for batching and
// buffer sizes: value, key and a generous allowance for the headers.
func estimate(lines []record.Line) int {
	n := 0
	for i := range lines {
		n += lineSize(&lines[i])
	}
	return n
}

// lineSize estimates one line's encoded record (headers included).
func lineSize(l *record.Line) int {
	n := 2*len(l.Path) + len(l.Host) + len(l.Value) + len(l.Kind) + len(l.FileID) + len(l.TZ) + len(l.LogFormat) + 120
	for k, v := range l.Labels {
		n += len(k) + len(v) + 8
	}
	return n
}
