package kafkas3sink.javareaders;

import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeSet;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.LocalInputFile;

/**
 * Reads Avro container files with {@link DataFileReader} and Parquet files with {@link
 * AvroParquetReader}, as a Java consumer of the sink's objects would, and prints JSON lines:
 *
 * <pre>
 * {"file": F, "format": "avro"|"parquet", "codec": C, "schema": S, ...}   once per file
 * {"file": F, "index": I, "record": R}                                     once per record
 * {"file": F, "error": E}                                                  when F cannot be read
 * </pre>
 *
 * <p>S is the schema the reader resolved (Avro: the writer schema of the container; Parquet:
 * the schema of the records AvroParquetReader returned), as Avro prints it. Records are read
 * with Avro's logical type conversions, and each value that is not plain JSON is tagged with
 * what the reader made of it: {"bytes": hex}, {"fixed": hex}, {"decimal": "123.45"},
 * {"timestamp-millis": epochMillis}, {"date": "2022-04-18"}, {"time-millis": millisOfDay}, so
 * a logical type the reader did not apply shows as its underlying type instead.
 *
 * <p>A file that fails is reported and the next one is read: one JVM serves a whole test run.
 */
public final class ReadArchive {
  private ReadArchive() {}

  public static void main(String[] args) throws IOException {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    model.addLogicalTypeConversion(new TimeConversions.DateConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    try (BufferedWriter out =
        new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8))) {
      for (String path : args) {
        try {
          if (path.endsWith(".avro")) {
            readAvro(path, model, out);
          } else if (path.endsWith(".parquet")) {
            readParquet(path, model, out);
          } else {
            throw new IllegalArgumentException("neither .avro nor .parquet");
          }
        } catch (Exception | LinkageError e) {
          System.err.println("Cannot read " + path + ":");
          e.printStackTrace();
          StringBuilder line = new StringBuilder("{\"file\":");
          quote(path, line);
          line.append(",\"error\":");
          quote(describe(e), line);
          out.write(line.append("}\n").toString());
        }
      }
    }
  }

  private static void readAvro(String path, GenericData model, BufferedWriter out)
      throws IOException {
    GenericDatumReader<GenericRecord> datumReader = new GenericDatumReader<>(null, null, model);
    try (DataFileReader<GenericRecord> reader =
        new DataFileReader<>(new File(path), datumReader)) {
      String codec = reader.getMetaString("avro.codec");
      Schema schema = reader.getSchema();
      StringBuilder records = new StringBuilder();
      long count = 0;
      for (Object datum : reader) {
        record(path, count++, datum, schema, model, records);
      }
      StringBuilder header = header(path, "avro", codec == null ? "null" : codec, schema, count);
      out.write(header.append("}\n").toString());
      out.write(records.toString());
    }
  }

  private static void readParquet(String path, GenericData model, BufferedWriter out)
      throws IOException {
    InputFile file = new LocalInputFile(Path.of(path));
    TreeSet<String> codecs = new TreeSet<>();
    Map<String, String> keyValues;
    long rows = 0;
    try (ParquetFileReader footer = ParquetFileReader.open(file)) {
      FileMetaData meta = footer.getFooter().getFileMetaData();
      keyValues = meta.getKeyValueMetaData();
      for (BlockMetaData block : footer.getFooter().getBlocks()) {
        rows += block.getRowCount();
        for (ColumnChunkMetaData column : block.getColumns()) {
          codecs.add(column.getCodec().name());
        }
      }
    }
    StringBuilder records = new StringBuilder();
    Schema schema = null;
    long count = 0;
    try (ParquetReader<Object> reader =
        AvroParquetReader.builder(file, new PlainParquetConfiguration())
            .withDataModel(model)
            .build()) {
      for (Object datum = reader.read(); datum != null; datum = reader.read()) {
        schema = ((GenericRecord) datum).getSchema();
        record(path, count++, datum, schema, model, records);
      }
    }
    StringBuilder header = header(path, "parquet", String.join(",", codecs), schema, count);
    header.append(",\"footer_rows\":").append(rows);
    header.append(",\"avro_schema_metadata\":");
    quote(keyValues.get("parquet.avro.schema"), header);
    out.write(header.append("}\n").toString());
    out.write(records.toString());
  }

  private static StringBuilder header(
      String path, String format, String codec, Schema schema, long count) {
    StringBuilder line = new StringBuilder("{\"file\":");
    quote(path, line);
    line.append(",\"format\":");
    quote(format, line);
    line.append(",\"codec\":");
    quote(codec, line);
    line.append(",\"records\":").append(count);
    line.append(",\"schema\":").append(schema == null ? "null" : schema.toString());
    return line;
  }

  private static void record(
      String path, long index, Object datum, Schema schema, GenericData model, StringBuilder out) {
    out.append("{\"file\":");
    quote(path, out);
    out.append(",\"index\":").append(index).append(",\"record\":");
    json(datum, schema, model, out);
    out.append("}\n");
  }

  /** Writes ``datum`` (of ``schema``) as JSON, tagging the values JSON has no type for. */
  private static void json(Object datum, Schema schema, GenericData model, StringBuilder out) {
    if (datum == null) {
      out.append("null");
    } else if (schema.getType() == Schema.Type.UNION) {
      json(datum, schema.getTypes().get(model.resolveUnion(schema, datum)), model, out);
    } else if (datum instanceof GenericRecord record) {
      out.append('{');
      String sep = "";
      for (Schema.Field field : schema.getFields()) {
        out.append(sep);
        sep = ",";
        quote(field.name(), out);
        out.append(':');
        json(record.get(field.pos()), field.schema(), model, out);
      }
      out.append('}');
    } else if (datum instanceof Map<?, ?> map) {
      out.append('{');
      String sep = "";
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        out.append(sep);
        sep = ",";
        quote(entry.getKey().toString(), out);
        out.append(':');
        json(entry.getValue(), schema.getValueType(), model, out);
      }
      out.append('}');
    } else if (datum instanceof Collection<?> items) {
      out.append('[');
      String sep = "";
      for (Object item : items) {
        out.append(sep);
        sep = ",";
        json(item, schema.getElementType(), model, out);
      }
      out.append(']');
    } else if (datum instanceof ByteBuffer bytes) {
      ByteBuffer copy = bytes.duplicate();
      byte[] raw = new byte[copy.remaining()];
      copy.get(raw);
      out.append("{\"bytes\":\"").append(HexFormat.of().formatHex(raw)).append("\"}");
    } else if (datum instanceof GenericFixed fixed) {
      out.append("{\"fixed\":\"").append(HexFormat.of().formatHex(fixed.bytes())).append("\"}");
    } else if (datum instanceof BigDecimal decimal) {
      out.append("{\"decimal\":");
      quote(decimal.toPlainString(), out);
      out.append('}');
    } else if (datum instanceof Instant instant) {
      out.append("{\"timestamp-millis\":").append(instant.toEpochMilli()).append('}');
    } else if (datum instanceof LocalDate date) {
      out.append("{\"date\":");
      quote(date.toString(), out);
      out.append('}');
    } else if (datum instanceof LocalTime time) {
      out.append("{\"time-millis\":").append(time.toNanoOfDay() / 1_000_000).append('}');
    } else if (datum instanceof CharSequence || datum instanceof GenericData.EnumSymbol) {
      quote(datum.toString(), out);
    } else if (datum instanceof Float || datum instanceof Double) {
      double value = ((Number) datum).doubleValue();
      if (Double.isFinite(value)) {
        out.append(datum);
      } else {
        quote(datum.toString(), out);
      }
    } else if (datum instanceof Number || datum instanceof Boolean) {
      out.append(datum);
    } else {
      out.append("{\"unexpected ").append(datum.getClass().getName()).append("\":");
      quote(datum.toString(), out);
      out.append('}');
    }
  }

  private static String describe(Throwable error) {
    StringBuilder text = new StringBuilder(error.toString());
    for (Throwable cause = error.getCause(); cause != null; cause = cause.getCause()) {
      text.append(" <- ").append(cause);
    }
    return text.toString();
  }

  private static void quote(String text, StringBuilder out) {
    if (text == null) {
      out.append("null");
      return;
    }
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }
}
