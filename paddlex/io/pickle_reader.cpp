// A pickle virtual machine for the opcode subset torch.save (protocol 2, or 4 from newer PyTorch /
// pickle_protocol=4), torch::pickle_save and paddle.save (protocol 2 to 4) emit, and the few globals a
// state_dict file uses. Nothing found in a file is ever executed: globals are names, and only the ones below
// have a meaning.
#include "paddlex/io/pickle_reader.h"

#include <caffe2/serialize/inline_container.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>
#include <variant>

#include "paddlex/core/errors.h"

namespace paddlex {
namespace {

[[noreturn]] void fail_file(const std::string& path, const std::string& reason) {
  throw RunError("cannot read weights '" + path + "': " + reason);
}

// ---- values -------------------------------------------------------------------------------------------

struct ListObj;
struct TupleObj;
struct DictObj;

struct NoneV {};
struct Bytes {  // shared: memo references (BINGET, DUP) must not copy a payload again
  std::shared_ptr<const std::string> data;
};
Bytes bytes_of(std::string s) { return Bytes{std::make_shared<const std::string>(std::move(s))}; }
struct GlobalRef {  // a class or function named by GLOBAL / STACK_GLOBAL
  std::string module, name;
  std::string full() const { return module + "." + name; }
};
struct Storage {  // a persistent-id storage, loaded: 1-D CPU tensor of the storage's dtype
  std::string key;
  torch::Tensor data;
};
struct Opaque {  // what an unsupported global built; an error only where a tensor or dict is needed
  std::string built_by;
};
struct DtypeObj {  // numpy.dtype(code, align, copy), then BUILD sets the byte order
  std::string code;
  std::string byte_order = "=";
};
struct ArrayObj {  // numpy's _reconstruct(ndarray, (0,), b'b'): undefined until BUILD gives it shape and bytes
  torch::Tensor data;
};

// Containers are shared (pickle's memo refers to the object that later opcodes fill in).
struct Value {
  std::variant<NoneV, bool, int64_t, double, std::string, Bytes, torch::Tensor, std::shared_ptr<ListObj>,
               std::shared_ptr<TupleObj>, std::shared_ptr<DictObj>, GlobalRef, Storage, Opaque,
               std::shared_ptr<DtypeObj>, std::shared_ptr<ArrayObj>>
      v;
  template <class T>
  const T* get() const {
    return std::get_if<T>(&v);
  }
};
template <class T>
Value make(T x) {
  Value out;
  out.v = std::move(x);
  return out;
}

struct ListObj {
  std::vector<Value> items;
};
struct TupleObj {
  std::vector<Value> items;
};
struct DictObj {
  std::vector<std::pair<Value, Value>> items;  // insertion (= file) order, like a Python dict
};

const std::vector<Value>* tuple_items(const Value& v) {
  if (const auto* t = v.get<std::shared_ptr<TupleObj>>()) return &(*t)->items;
  return nullptr;
}
const std::vector<Value>* sequence_items(const Value& v) {  // tuple or list
  if (const auto* l = v.get<std::shared_ptr<ListObj>>()) return &(*l)->items;
  return tuple_items(v);
}
DictObj* dict_of(const Value& v) {
  if (const auto* d = v.get<std::shared_ptr<DictObj>>()) return d->get();
  return nullptr;
}

std::string describe(const Value& v) {
  struct Visitor {
    std::string operator()(const NoneV&) const { return "None"; }
    std::string operator()(bool) const { return "a bool"; }
    std::string operator()(int64_t) const { return "an int"; }
    std::string operator()(double) const { return "a float"; }
    std::string operator()(const std::string&) const { return "a str"; }
    std::string operator()(const Bytes&) const { return "bytes"; }
    std::string operator()(const torch::Tensor&) const { return "a tensor"; }
    std::string operator()(const std::shared_ptr<ListObj>&) const { return "a list"; }
    std::string operator()(const std::shared_ptr<TupleObj>&) const { return "a tuple"; }
    std::string operator()(const std::shared_ptr<DictObj>&) const { return "a dict"; }
    std::string operator()(const GlobalRef& g) const { return "global '" + g.full() + "'"; }
    std::string operator()(const Storage&) const { return "a storage"; }
    std::string operator()(const Opaque& o) const {
      return "an object built by unsupported global '" + o.built_by + "'";
    }
    std::string operator()(const std::shared_ptr<DtypeObj>&) const { return "a numpy dtype"; }
    std::string operator()(const std::shared_ptr<ArrayObj>&) const { return "a numpy array"; }
  };
  return std::visit(Visitor{}, v.v);
}

// Dict keys: a repeated str/int/bool key replaces the value in place, as in Python.
bool same_key(const Value& a, const Value& b) {
  if (const auto* s = a.get<std::string>()) return b.get<std::string>() && *s == *b.get<std::string>();
  if (const auto* i = a.get<int64_t>()) return b.get<int64_t>() && *i == *b.get<int64_t>();
  if (const auto* x = a.get<bool>()) return b.get<bool>() && *x == *b.get<bool>();
  return false;
}

// ---- opcodes ------------------------------------------------------------------------------------------

// "unsupported pickle opcode DICT (0x64)" / "unknown pickle opcode 0x00".
std::string opcode_error(uint8_t op) {
  static const std::map<uint8_t, const char*> names = {
      {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'F', "FLOAT"},
      {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"}, {'M', "BININT2"}, {'N', "NONE"},
      {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"}, {'S', "STRING"}, {'T', "BINSTRING"},
      {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"},
      {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"},
      {'i', "INST"}, {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"},
      {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"},
      {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"}, {0x82, "EXT1"},
      {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"},
      {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"}, {'B', "BINBYTES"},
      {'C', "SHORT_BINBYTES"}, {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"},
      {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"},
      {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"}, {0x95, "FRAME"}, {0x96, "BYTEARRAY8"},
      {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"}};
  static const char* hex = "0123456789abcdef";
  std::string code = std::string("0x") + hex[op >> 4] + hex[op & 15];
  auto it = names.find(op);
  return it == names.end() ? "unknown pickle opcode " + code
                           : "unsupported pickle opcode " + std::string(it->second) + " (" + code + ")";
}

c10::optional<c10::ScalarType> storage_dtype(const std::string& type) {
  static const std::map<std::string, c10::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat},
      {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},
      {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},
      {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},
      {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},
      {"torch.BoolStorage", torch::kBool},
      {"torch.ComplexFloatStorage", torch::kComplexFloat},
      {"torch.ComplexDoubleStorage", torch::kComplexDouble},
      // Untyped storages hold bytes; torch.load gives them dtype uint8 too.
      {"torch.UntypedStorage", torch::kByte},
      {"torch.storage.UntypedStorage", torch::kByte},
      {"torch._UntypedStorage", torch::kByte},
      {"torch.storage._UntypedStorage", torch::kByte}};
  auto it = types.find(type);
  if (it == types.end()) return c10::nullopt;
  return it->second;
}

// ---- the machine --------------------------------------------------------------------------------------

class Unpickler {
 public:
  using PersistentLoad = std::function<Value(const Value& pid)>;

  // `stream` names the pickle in messages ("data.pkl" inside a zip, "the pickle" for a bare one);
  // `allowed_globals`, when given, is the only globals the pickle may name.
  Unpickler(std::string path, std::string stream, const uint8_t* data, size_t size, PersistentLoad persistent_load,
            const std::set<std::string>* allowed_globals = nullptr)
      : path_(std::move(path)),
        stream_(std::move(stream)),
        data_(data),
        size_(size),
        persistent_load_(std::move(persistent_load)),
        allowed_globals_(allowed_globals) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;
  // A pickle may hold reference cycles (a list containing itself); emptying every container breaks them.
  ~Unpickler() {
    for (auto& l : lists_) l->items.clear();
    for (auto& d : dicts_) d->items.clear();
    for (auto& t : tuples_) t->items.clear();  // also keeps deeply nested tuples from being freed recursively
  }

  Value run() {
    for (;;) {
      op_pos_ = pos_;
      const uint8_t op = u8();
      switch (op) {
        case 0x80: {  // PROTO
          const uint8_t proto = u8();
          if (proto > 5) fail("pickle protocol " + std::to_string(proto) + " is newer than 5");
          break;
        }
        case 0x95: le(8); break;  // FRAME: a length hint, the opcodes follow inline
        case '.': return pop();   // STOP
        case '(': marks_.push_back(stack_.size()); break;
        case '0':  // POP (Python pops a bare mark too)
          if (!marks_.empty() && stack_.size() == marks_.back()) pop_mark();
          else pop();
          break;
        case '1': pop_mark(); break;  // POP_MARK
        case '2': push(copied(top())); break;  // DUP
        case 'N': push(make(NoneV{})); break;
        case 0x88: push(make(true)); break;
        case 0x89: push(make(false)); break;
        case 'J': push(make(static_cast<int64_t>(static_cast<int32_t>(le(4))))); break;
        case 'K': push(make(static_cast<int64_t>(u8()))); break;
        case 'M': push(make(static_cast<int64_t>(le(2)))); break;
        case 0x8a: {  // LONG1: little-endian two's complement of n bytes
          const uint8_t n = u8();
          if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit 64 bits");
          uint64_t v = le(n);
          if (n > 0 && n < 8 && ((v >> (8 * n - 1)) & 1)) v |= ~uint64_t{0} << (8 * n);
          push(make(static_cast<int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
          need(8);
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | data_[pos_ + i];
          pos_ += 8;
          double d;
          std::memcpy(&d, &bits, sizeof d);
          push(make(d));
          break;
        }
        case 'X': push(make(str(le(4)))); break;     // BINUNICODE
        case 0x8c: push(make(str(u8()))); break;     // SHORT_BINUNICODE
        case 0x8d: push(make(str(le(8)))); break;    // BINUNICODE8
        case 'T': {                                  // BINSTRING
          const int32_t n = static_cast<int32_t>(le(4));
          if (n < 0) fail("negative BINSTRING length");
          push(make(str(static_cast<uint64_t>(n))));
          break;
        }
        case 'U': push(make(str(u8()))); break;            // SHORT_BINSTRING
        case 'B': push(make(bytes_of(str(le(4))))); break;    // BINBYTES
        case 'C': push(make(bytes_of(str(u8())))); break;     // SHORT_BINBYTES
        case 0x8e: push(make(bytes_of(str(le(8))))); break;   // BINBYTES8
        case '}': push(new_dict_value()); break;
        case ']': push(new_list_value()); break;
        case ')': push(new_tuple({})); break;
        case 't': push(new_tuple(pop_mark())); break;
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          std::vector<Value> items(op - 0x84);
          for (size_t i = items.size(); i-- > 0;) items[i] = pop();
          push(new_tuple(std::move(items)));
          break;
        }
        case 'a': {  // APPEND
          Value v = pop();
          append(top(), {std::move(v)});
          break;
        }
        case 'e': {  // APPENDS
          std::vector<Value> items = pop_mark();
          append(top(), std::move(items));
          break;
        }
        case 's': {  // SETITEM
          Value v = pop();
          Value k = pop();
          set_items(top(), {std::move(k), std::move(v)});
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Value> items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
          set_items(top(), std::move(items));
          break;
        }
        case 'q': memo_[u8()] = top(); break;                  // BINPUT
        case 'r': memo_[le(4)] = top(); break;                 // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;         // MEMOIZE
        case 'h': push(memo_get(u8())); break;                 // BINGET
        case 'j': push(memo_get(le(4))); break;                // LONG_BINGET
        case 'c': {                                            // GLOBAL
          std::string module = line();
          std::string name = line();
          push(global(GlobalRef{std::move(module), std::move(name)}));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value name = pop();
          Value module = pop();
          if (!name.get<std::string>() || !module.get<std::string>())
            fail("STACK_GLOBAL needs two str, got " + describe(module) + " and " + describe(name));
          push(global(GlobalRef{*module.get<std::string>(), *name.get<std::string>()}));
          break;
        }
        case 'R': {  // REDUCE
          Value args = pop();
          Value callable = pop();
          push(call(callable, args));
          break;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
          Value args = pop();
          Value cls = pop();
          push(new_object(cls, args));
          break;
        }
        case 'b': {  // BUILD
          Value state = pop();
          build(top(), state);
          break;
        }
        case 'Q': {  // BINPERSID
          Value pid = pop();
          push(persistent_load_(pid));
          break;
        }
        default:
          fail(opcode_error(op));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    fail_file(path_, stream_ + " at byte " + std::to_string(op_pos_) + ": " + reason);
  }

  void need(uint64_t n) {
    if (n > size_ - pos_) fail("truncated pickle (needs " + std::to_string(n) + " more bytes)");
  }
  uint8_t u8() {
    need(1);
    return data_[pos_++];
  }
  uint64_t le(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string str(uint64_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (!nl) fail("GLOBAL name without end of line");
    const size_t n = static_cast<const uint8_t*>(nl) - (data_ + pos_);
    std::string s = str(n);
    ++pos_;
    return s;
  }

  Value global(GlobalRef ref) {
    if (allowed_globals_ && !allowed_globals_->count(ref.full()))
      fail("global '" + ref.full() + "' is not allowed in a weight file (nothing in the file is run)");
    return make(std::move(ref));
  }

  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value v) { stack_.push_back(std::move(v)); }
  Value pop() {
    if (stack_.size() <= floor()) fail("pickle stack underflow");
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Value& top() {
    if (stack_.size() <= floor()) fail("pickle stack underflow");
    return stack_.back();
  }
  std::vector<Value> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
                             std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  Value memo_get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("memo key " + std::to_string(key) + " was never stored");
    return copied(it->second);
  }
  // A str is copied by value: a pickle that repeats a long one far more than it could hold is refused.
  const Value& copied(const Value& v) {
    if (const auto* text = v.get<std::string>()) {
      copied_text_ += text->size();
      if (copied_text_ > size_ + (size_t{64} << 20)) fail("the pickle repeats its text far beyond its own size");
    }
    return v;
  }

  void append(const Value& target, std::vector<Value> items) {
    if (const auto* l = target.get<std::shared_ptr<ListObj>>()) {
      for (auto& v : items) (*l)->items.push_back(std::move(v));
    } else if (!target.get<Opaque>()) {  // an unsupported list subclass stays opaque
      fail("APPEND to " + describe(target) + ", not a list");
    }
  }
  void set_items(const Value& target, std::vector<Value> items) {
    DictObj* d = dict_of(target);
    if (!d) {
      if (target.get<Opaque>()) return;  // an unsupported dict subclass stays opaque
      fail("SETITEM on " + describe(target) + ", not a dict");
    }
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      bool replaced = false;
      for (auto& [k, v] : d->items) {
        if (same_key(k, items[i])) {
          v = std::move(items[i + 1]);
          replaced = true;
          break;
        }
      }
      if (!replaced) d->items.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    }
  }
  void build(const Value& target, const Value& state) {
    // OrderedDict state_dicts carry {'_metadata': ...} (module versions): accepted and ignored.
    if (dict_of(target) || target.get<Opaque>()) return;
    if (const auto* array = target.get<std::shared_ptr<ArrayObj>>()) {
      (*array)->data = array_from_state(state);
      return;
    }
    if (const auto* dtype = target.get<std::shared_ptr<DtypeObj>>()) {
      // (version, byte order, subarray, names, fields, element size, alignment, flags): the order is what matters.
      const std::vector<Value>* items = tuple_items(state);
      if (!items || items->size() < 2 || !(*items)[1].get<std::string>())
        fail("numpy dtype '" + (*dtype)->code + "' has a malformed state " + describe(state));
      (*dtype)->byte_order = *(*items)[1].get<std::string>();
      return;
    }
    fail("BUILD on " + describe(target) + " is not supported");
  }

  // numpy.ndarray.__setstate__((version, shape, dtype, is_fortran, raw bytes)), for numeric dtypes only.
  torch::Tensor array_from_state(const Value& state) {
    const std::vector<Value>* items = tuple_items(state);
    if (!items || items->size() != 5) fail("numpy array state is " + describe(state) + ", expected a 5-tuple");
    const std::string fn = "numpy array";
    const std::vector<int64_t> shape = ints_arg(fn, *items, 1);
    const auto* dtype_ptr = (*items)[2].get<std::shared_ptr<DtypeObj>>();
    if (!dtype_ptr) fail("numpy array state has " + describe((*items)[2]) + " as its dtype");
    const DtypeObj& dtype = **dtype_ptr;
    const auto* fortran = (*items)[3].get<bool>();
    if (!fortran) fail("numpy array state has " + describe((*items)[3]) + " as its Fortran-order flag");
    const c10::ScalarType type = numpy_scalar_type(dtype);
    const auto* raw = (*items)[4].get<Bytes>();
    if (!raw) fail("numpy array of dtype '" + dtype.code + "' holds " + describe((*items)[4]) + ", not raw bytes");
    uint64_t numel = 1;
    bool overflow = false;
    for (int64_t d : shape) {
      if (d < 0) fail("numpy array with a negative dimension");
      overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel);
    }
    uint64_t nbytes = 0;
    overflow = overflow || __builtin_mul_overflow(numel, c10::elementSize(type), &nbytes);
    if (overflow || nbytes != raw->data->size()) {
      std::ostringstream os;
      os << "numpy array of shape " << c10::IntArrayRef(shape) << " and dtype '" << dtype.code << "' needs "
         << (overflow ? std::string("more than 2^64") : std::to_string(nbytes)) << " bytes, the file holds "
         << raw->data->size();
      fail(os.str());
    }
    array_bytes_ += nbytes;  // a payload reached twice through the memo would allocate again
    if (array_bytes_ > size_) fail("the pickle's arrays hold more bytes than the pickle itself");
    const auto options = torch::TensorOptions().dtype(type);
    if (!*fortran || shape.size() < 2) {
      torch::Tensor t = torch::empty(shape, options);
      if (nbytes) std::memcpy(t.data_ptr(), raw->data->data(), nbytes);
      return t;
    }
    // Fortran order is the C order of the reversed shape.
    std::vector<int64_t> reversed(shape.rbegin(), shape.rend());
    torch::Tensor t = torch::empty(reversed, options);
    if (nbytes) std::memcpy(t.data_ptr(), raw->data->data(), nbytes);
    std::vector<int64_t> dims(shape.size());
    for (size_t i = 0; i < dims.size(); ++i) dims[i] = static_cast<int64_t>(dims.size() - 1 - i);
    return t.permute(dims).contiguous();
  }

  c10::ScalarType numpy_scalar_type(const DtypeObj& dtype) {
    static const std::map<std::string, c10::ScalarType> types = {
        {"f4", torch::kFloat}, {"f8", torch::kDouble}, {"f2", torch::kHalf}, {"i8", torch::kLong},
        {"i4", torch::kInt},   {"i2", torch::kShort},  {"i1", torch::kChar}, {"u1", torch::kByte},
        {"b1", torch::kBool}};
    if (!dtype.code.empty() && dtype.code[0] == 'O')
      fail("numpy object array (dtype '" + dtype.code + "'): weight files hold numeric arrays only");
    auto it = types.find(dtype.code);
    if (it == types.end())
      fail("numpy dtype '" + dtype.code + "' is not supported (float16/32/64, int8/16/32/64, uint8, bool are)");
    // numpy pickles "<" or ">" for multi-byte types and "|" where the order does not apply.
    if (dtype.byte_order == ">")
      fail("numpy array of big-endian dtype '>" + dtype.code + "' is not supported; save it little-endian");
    if (dtype.byte_order != "<" && dtype.byte_order != "|")
      fail("numpy dtype '" + dtype.code + "' with byte order '" + dtype.byte_order + "'");
    return it->second;
  }

  const std::vector<Value>& args_of(const std::string& fn, const Value& args) {
    const std::vector<Value>* items = tuple_items(args);
    if (!items) fail("arguments of " + fn + " are " + describe(args) + ", not a tuple");
    return *items;
  }
  int64_t int_arg(const std::string& fn, const std::vector<Value>& args, size_t i) {
    if (const auto* v = args[i].get<int64_t>()) return *v;
    fail(fn + ": argument " + std::to_string(i + 1) + " is " + describe(args[i]) + ", not an int");
  }
  std::vector<int64_t> ints_arg(const std::string& fn, const std::vector<Value>& args, size_t i) {
    const std::vector<Value>* items = sequence_items(args[i]);
    if (!items) fail(fn + ": argument " + std::to_string(i + 1) + " is " + describe(args[i]) + ", not a tuple");
    std::vector<int64_t> out;
    for (const auto& v : *items) {
      const auto* n = v.get<int64_t>();
      if (!n) fail(fn + ": argument " + std::to_string(i + 1) + " holds " + describe(v) + ", not an int");
      out.push_back(*n);
    }
    return out;
  }

  Value call(const Value& callable, const Value& args_value) {
    if (callable.get<Opaque>()) return callable;
    const auto* g = callable.get<GlobalRef>();
    if (!g) fail("REDUCE calls " + describe(callable) + ", not a global");
    const std::string fn = g->full();
    const std::vector<Value>& args = args_of(fn, args_value);

    if (fn == "collections.OrderedDict") return new_dict(fn, args);
    if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor")
      return rebuild_tensor(fn, args);
    if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
      // (data, requires_grad, backward_hooks[, state]): the weights are what we need.
      if (args.empty() || !args[0].get<torch::Tensor>()) fail(fn + " expects a tensor as its first argument");
      return args[0];
    }
    if (fn == "torch._tensor._rebuild_from_type_v2") {  // (func, type, args, state): plain tensor subclasses
      if (args.size() < 3) fail(fn + " expects 4 arguments, got " + std::to_string(args.size()));
      if (rebuild_depth_ >= 4) fail(fn + " nested too deeply");
      ++rebuild_depth_;
      Value out = call(args[0], args[2]);
      --rebuild_depth_;
      return out;
    }
    if (fn == "torch.jit._pickle.restore_type_tag") {  // (object, "Dict[str, Tensor]") from torch::pickle_save
      if (args.empty()) fail(fn + " without arguments");
      return args[0];
    }
    if (fn == "numpy.core.multiarray._reconstruct" || fn == "numpy._core.multiarray._reconstruct") {
      // (numpy.ndarray, (0,), b'b'): an empty array that the following BUILD fills in
      const auto* cls = args.empty() ? nullptr : args[0].get<GlobalRef>();
      if (!cls || cls->full() != "numpy.ndarray")
        fail(fn + " of " + (args.empty() ? std::string("nothing") : describe(args[0])) +
             "; only numpy.ndarray is supported");
      return make(std::make_shared<ArrayObj>());
    }
    if (fn == "numpy.dtype") {  // (code, align, copy)
      if (args.empty() || !args[0].get<std::string>()) fail(fn + " expects a type code such as 'f4'");
      auto dtype = std::make_shared<DtypeObj>();
      dtype->code = *args[0].get<std::string>();
      return make(dtype);
    }
    if (fn == "_codecs.encode") return latin1_bytes(fn, args);
    if (fn == "builtins.bytes" || fn == "__builtin__.bytes") {  // protocol 2's empty bytes: bytes()
      if (!args.empty()) fail(fn + " is supported only without arguments (empty bytes)");
      return make(bytes_of(""));
    }
    if (fn == "torch.Size") {
      if (args.size() != 1 || !sequence_items(args[0])) fail(fn + " expects one tuple");
      return new_tuple(*sequence_items(args[0]));
    }
    if (fn == "torch.device") {  // device('cuda:0') or device('cuda', 0) -> "cuda:0"; we load to the CPU anyway
      if (args.empty() || !args[0].get<std::string>()) fail(fn + " expects a device string");
      std::string device = *args[0].get<std::string>();
      if (args.size() > 1 && args[1].get<int64_t>()) device += ":" + std::to_string(*args[1].get<int64_t>());
      return make(device);
    }
    return make(Opaque{fn});
  }

  // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1'): each code point (< 256) is one byte.
  Value latin1_bytes(const std::string& fn, const std::vector<Value>& args) {
    if (args.size() != 2 || !args[0].get<std::string>() || !args[1].get<std::string>() ||
        (*args[1].get<std::string>() != "latin1" && *args[1].get<std::string>() != "latin-1"))
      fail(fn + " is supported only as encode(text, 'latin1'), the protocol-2 form of bytes");
    const std::string& utf8 = *args[0].get<std::string>();
    std::string out;
    out.reserve(utf8.size());
    for (size_t i = 0; i < utf8.size(); ++i) {
      const auto c = static_cast<uint8_t>(utf8[i]);
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size() &&
                 (static_cast<uint8_t>(utf8[i + 1]) & 0xC0) == 0x80) {  // U+0080..U+00FF
        out.push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<uint8_t>(utf8[++i]) & 0x3F)));
      } else {
        fail(fn + ": text with a character above U+00FF cannot be latin1 bytes");
      }
    }
    return make(bytes_of(std::move(out)));
  }

  Value new_object(const Value& cls, const Value& args_value) {
    if (cls.get<Opaque>()) return cls;
    const auto* g = cls.get<GlobalRef>();
    if (!g) fail("NEWOBJ on " + describe(cls) + ", not a class");
    const std::string name = g->full();
    const std::vector<Value>& args = args_of(name, args_value);
    if (name == "collections.OrderedDict") return new_dict(name, args);
    if (name == "torch.Size") return call(cls, args_value);
    return make(Opaque{name});
  }

  Value new_tuple(std::vector<Value> items) {
    tuples_.push_back(std::make_shared<TupleObj>());
    tuples_.back()->items = std::move(items);
    return make(tuples_.back());
  }
  Value new_list_value() {
    lists_.push_back(std::make_shared<ListObj>());
    return make(lists_.back());
  }
  Value new_dict_value() {
    dicts_.push_back(std::make_shared<DictObj>());
    return make(dicts_.back());
  }

  Value new_dict(const std::string& fn, const std::vector<Value>& args) {
    Value out = new_dict_value();
    if (args.empty()) return out;
    const DictObj* src = dict_of(args[0]);
    if (args.size() > 1 || !src) fail(fn + " with arguments other than a dict is not supported");
    dict_of(out)->items = src->items;
    return out;
  }

  // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
  // [, metadata]): a view into the storage. requires_grad, hooks and metadata do not matter for weights.
  Value rebuild_tensor(const std::string& fn, const std::vector<Value>& args) {
    if (args.size() < 4) fail(fn + " expects at least 4 arguments, got " + std::to_string(args.size()));
    const auto* storage = args[0].get<Storage>();
    if (!storage) fail(fn + ": argument 1 is " + describe(args[0]) + ", not a storage");
    const int64_t offset = int_arg(fn, args, 1);
    const std::vector<int64_t> size = ints_arg(fn, args, 2);
    const std::vector<int64_t> stride = ints_arg(fn, args, 3);
    const int64_t numel = storage->data.numel();
    auto geometry = [&] {
      std::ostringstream os;
      os << "tensor of size " << c10::IntArrayRef(size) << ", stride " << c10::IntArrayRef(stride) << ", offset "
         << offset << " on storage '" << storage->key << "' of " << numel << " elements";
      return os.str();
    };
    if (size.size() != stride.size()) fail(fn + ": " + geometry() + ": size and stride differ in length");
    bool empty = false;
    int64_t last = offset;  // index of the last element the view touches
    bool overflow = offset < 0;
    for (size_t i = 0; i < size.size(); ++i) {
      if (size[i] < 0 || stride[i] < 0) fail(fn + ": " + geometry() + ": negative size or stride");
      if (size[i] == 0) empty = true;
    }
    if (!empty) {
      for (size_t i = 0; i < size.size() && !overflow; ++i) {
        int64_t span = 0;
        overflow = __builtin_mul_overflow(size[i] - 1, stride[i], &span) || __builtin_add_overflow(last, span, &last);
      }
    }
    if (overflow || (empty ? offset > numel : last >= numel))
      fail(fn + ": " + geometry() + " reaches past the end of the storage");
    return make(storage->data.as_strided(size, stride, offset));
  }

  std::string path_;
  std::string stream_;
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  PersistentLoad persistent_load_;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;  // stack heights at each open MARK
  std::unordered_map<uint64_t, Value> memo_;
  std::vector<std::shared_ptr<ListObj>> lists_;
  std::vector<std::shared_ptr<DictObj>> dicts_;
  std::vector<std::shared_ptr<TupleObj>> tuples_;
  const std::set<std::string>* allowed_globals_;  // null: any global is a name; its use decides
  size_t copied_text_ = 0;                         // bytes of str values copied by DUP and memo gets
  uint64_t array_bytes_ = 0;                       // bytes of numpy arrays built so far
  int rebuild_depth_ = 0;
};

// ---- the file -----------------------------------------------------------------------------------------

// torch.save's zip layout starts with "PK\3\4"; anything else gets a precise reason before the zip reader runs.
void check_container(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_file(path, "the file cannot be opened");
  char head[512] = {};
  in.read(head, sizeof head);
  const std::streamsize n = in.gcount();
  if (n == 0) fail_file(path, "the file is empty");
  if (n >= 4 && std::memcmp(head, "PK\3\4", 4) == 0) return;
  if (n >= 4 && std::memcmp(head, "PK\5\6", 4) == 0) fail_file(path, "the file is an empty zip archive");
  const bool legacy_pickle = static_cast<uint8_t>(head[0]) == 0x80;  // PROTO: the pre-1.6 pickle stream
  const bool legacy_tar = n >= 262 && std::memcmp(head + 257, "ustar", 5) == 0;
  if (legacy_pickle || legacy_tar)
    fail_file(path, std::string("it is in the legacy (pre-1.6, non-zip) torch.save ") +
                        (legacy_tar ? "tar" : "pickle") +
                        " format, which is not supported; re-save it with a current torch.save, e.g. in Python: "
                        "torch.save(torch.load(p), p)");
  fail_file(path, "not a torch.save file (not a zip archive)");
}

// BINPERSID ('storage', storage_type, key, location, numel) -> the record data/<key> as a typed 1-D tensor.
class StorageLoader {
 public:
  StorageLoader(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path)
      : reader_(reader), path_(path) {}

  Value operator()(const Value& pid) {
    const std::vector<Value>* items = tuple_items(pid);
    if (!items || items->empty() || !(*items)[0].get<std::string>() || *(*items)[0].get<std::string>() != "storage")
      fail("unsupported persistent id (" + describe(pid) + "; expected ('storage', ...))");
    if (items->size() < 5) fail("storage persistent id has " + std::to_string(items->size()) + " fields, expected 5");
    const auto* type = (*items)[1].get<GlobalRef>();
    const auto* key = (*items)[2].get<std::string>();
    const auto* location = (*items)[3].get<std::string>();  // 'cpu', 'cuda:0', ...: everything loads to the CPU
    const auto* numel = (*items)[4].get<int64_t>();
    if (!type || !key || !location || !numel)
      fail("malformed storage persistent id (expected storage type, key, location, size)");
    auto cached = storages_.find(*key);  // views of one storage share it, as after torch.load
    if (cached != storages_.end()) return make(cached->second);
    const auto dtype = storage_dtype(type->full());
    if (!dtype) {
      if (type->name == "TypedStorage")
        fail("storage type '" + type->full() + "' carries no dtype; expected e.g. torch.FloatStorage");
      fail("unsupported global '" + type->full() + "' as storage type");
    }
    const std::string record = "data/" + *key;
    if (!reader_.hasRecord(record))
      fail("missing storage record '" + record + "' (the zip archive lacks the data of storage '" + *key + "')");
    auto [ptr, nbytes] = reader_.getRecord(record);
    const size_t element = c10::elementSize(*dtype);
    if (*numel < 0 || nbytes / element < static_cast<uint64_t>(*numel))
      fail("storage record '" + record + "' holds " + std::to_string(nbytes) + " bytes, too few for " +
           std::to_string(*numel) + " elements of " + type->full());
    const auto options = torch::TensorOptions().dtype(*dtype);
    torch::Tensor data =
        *numel == 0 ? torch::empty({0}, options) : torch::from_blob(ptr.get(), {*numel}, options).clone();
    Storage storage{*key, data};
    storages_.emplace(*key, storage);
    return make(storage);
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { fail_file(path_, reason); }

  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string path_;
  std::map<std::string, Storage> storages_;
};

std::vector<std::pair<std::string, torch::Tensor>> tensors_of(const Value& root, const std::string& path) {
  const DictObj* dict = dict_of(root);
  if (!dict) fail_file(path, "it holds " + describe(root) + ", not a dict of name -> tensor (a state_dict)");
  bool wrapped = false;
  for (const char* wrapper : {"state_dict", "model"}) {
    for (const auto& [k, v] : dict->items) {
      const auto* name = k.get<std::string>();
      if (name && *name == wrapper && dict_of(v)) {
        dict = dict_of(v);
        wrapped = true;
        break;
      }
    }
    if (wrapped) break;
  }
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.reserve(dict->items.size());
  for (const auto& [k, v] : dict->items) {
    const auto* name = k.get<std::string>();
    if (!name) fail_file(path, "the state_dict has " + describe(k) + " as a key; expected tensor names");
    const auto* t = v.get<torch::Tensor>();
    if (!t) fail_file(path, "state_dict entry '" + *name + "' is " + describe(v) + ", not a tensor");
    out.emplace_back(*name, *t);
  }
  return out;
}

// The table paddle.save adds to a state_dict (structured name -> PaddlePaddle's internal parameter name).
constexpr const char* kPaddleNameTable = "StructuredToParameterName@@";

std::vector<std::pair<std::string, torch::Tensor>> arrays_of(const Value& root, const std::string& path) {
  const DictObj* dict = dict_of(root);
  if (!dict) fail_file(path, "it holds " + describe(root) + ", not a dict of name -> array (a state_dict)");
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.reserve(dict->items.size());
  for (const auto& [k, v] : dict->items) {
    const auto* name = k.get<std::string>();
    if (!name) fail_file(path, "the state_dict has " + describe(k) + " as a key; expected parameter names");
    if (*name == kPaddleNameTable) continue;
    const auto* array = v.get<std::shared_ptr<ArrayObj>>();
    if (!array) fail_file(path, "state_dict entry '" + *name + "' is " + describe(v) + ", not a numpy array");
    if (!(*array)->data.defined()) fail_file(path, "state_dict entry '" + *name + "' is an array never filled in");
    out.emplace_back(*name, (*array)->data);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> read_paddle_state_dict(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw RunError("weights file not found: '" + path + "'");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_file(path, "the file cannot be opened");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) fail_file(path, "the file is empty");
  if (bytes.rfind("PK\3\4", 0) == 0)
    fail_file(path, "it is a zip archive (a torch.save file?), not a PaddlePaddle pickle; name it .pt or .pth");
  if (static_cast<uint8_t>(bytes[0]) != 0x80)
    fail_file(path, "not a PaddlePaddle weight file (it does not start as a pickle of protocol 2 or later)");
  // What paddle.save writes: numpy arrays (and, at protocol 2, bytes as _codecs.encode / bytes()), OrderedDicts.
  static const std::set<std::string> allowed = {
      "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
      "_codecs.encode", "builtins.bytes", "__builtin__.bytes", "collections.OrderedDict"};
  try {
    Unpickler vm(
        path, "the pickle", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
        [&](const Value&) -> Value {
          fail_file(path, "the pickle refers to external storage (persistent ids), which .pdparams files never do");
        },
        &allowed);
    return arrays_of(vm.run(), path);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    fail_file(path, what.substr(0, what.find('\n')));
  }
}

std::vector<std::pair<std::string, torch::Tensor>> read_pytorch_state_dict(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw RunError("weights file not found: '" + path + "'");
  check_container(path);
  try {
    // LibTorch 1.13's reader finds the archive prefix ("archive/" from pickle_save, the file's stem from
    // Python's torch.save) from the first record itself: names here are relative to it.
    caffe2::serialize::PyTorchStreamReader reader(path);
    for (const auto& name : reader.getAllRecords())
      if (name.rfind("code/", 0) == 0)
        fail_file(path, "it is a TorchScript module (torch.jit.save), not a state_dict; save "
                        "model.state_dict() with torch.save instead");
    if (!reader.hasRecord("data.pkl"))
      fail_file(path, "the zip archive has no data.pkl record (not a torch.save file)");
    if (reader.hasRecord("byteorder")) {
      auto [ptr, n] = reader.getRecord("byteorder");
      if (std::string(static_cast<const char*>(ptr.get()), n) == "big")
        fail_file(path, "it was written on a big-endian machine, which is not supported");
    }

    StorageLoader load_storage(reader, path);
    auto [pkl, pkl_size] = reader.getRecord("data.pkl");
    Unpickler vm(path, "data.pkl", static_cast<const uint8_t*>(pkl.get()), pkl_size, std::ref(load_storage));
    return tensors_of(vm.run(), path);
  } catch (const RunError&) {
    throw;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    fail_file(path, what.substr(0, what.find('\n')));
  }
}

}  // namespace paddlex
