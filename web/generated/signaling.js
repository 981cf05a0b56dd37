/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
(function($protobuf) {
    "use strict";

    var $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
    var $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;
    
    var $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});
    
    $root.meetingcontroller = (function() {
    
        var meetingcontroller = {};
    
        meetingcontroller.signaling = (function() {
    
            var signaling = {};
    
            signaling.v1 = (function() {
    
                var v1 = {};
    
                v1.ClientMessage = (function() {
    
                    var ClientMessage = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    ClientMessage.prototype.join = null;
                    ClientMessage.prototype.mute = null;
                    ClientMessage.prototype.hostMute = null;
                    ClientMessage.prototype.unmuteRequest = null;
                    ClientMessage.prototype.unmuteDecision = null;
                    ClientMessage.prototype.leave = null;
                    ClientMessage.prototype.ping = null;
    
                    var $oneOfFields;
    
                    $Object.defineProperty(ClientMessage.prototype, "payload", {
                        get: $util.oneOfGetter($oneOfFields = ["join", "mute", "hostMute", "unmuteRequest", "unmuteDecision", "leave", "ping"]),
                        set: $util.oneOfSetter($oneOfFields)
                    });
    
                    ClientMessage.create = function(properties) {
                        return new ClientMessage(properties);
                    };
    
                    ClientMessage.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.join != null && $Object.hasOwnProperty.call(message, "join"))
                            $root.meetingcontroller.signaling.v1.JoinRequest.encode(message.join, writer.uint32(10).fork(), _depth + 1).ldelim();
                        if (message.mute != null && $Object.hasOwnProperty.call(message, "mute"))
                            $root.meetingcontroller.signaling.v1.MuteRequest.encode(message.mute, writer.uint32(18).fork(), _depth + 1).ldelim();
                        if (message.hostMute != null && $Object.hasOwnProperty.call(message, "hostMute"))
                            $root.meetingcontroller.signaling.v1.HostMuteRequest.encode(message.hostMute, writer.uint32(26).fork(), _depth + 1).ldelim();
                        if (message.unmuteRequest != null && $Object.hasOwnProperty.call(message, "unmuteRequest"))
                            $root.meetingcontroller.signaling.v1.UnmuteRequest.encode(message.unmuteRequest, writer.uint32(34).fork(), _depth + 1).ldelim();
                        if (message.unmuteDecision != null && $Object.hasOwnProperty.call(message, "unmuteDecision"))
                            $root.meetingcontroller.signaling.v1.UnmuteDecision.encode(message.unmuteDecision, writer.uint32(42).fork(), _depth + 1).ldelim();
                        if (message.leave != null && $Object.hasOwnProperty.call(message, "leave"))
                            $root.meetingcontroller.signaling.v1.LeaveRequest.encode(message.leave, writer.uint32(50).fork(), _depth + 1).ldelim();
                        if (message.ping != null && $Object.hasOwnProperty.call(message, "ping"))
                            $root.meetingcontroller.signaling.v1.Ping.encode(message.ping, writer.uint32(58).fork(), _depth + 1).ldelim();
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    ClientMessage.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.ClientMessage();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    message.join = $root.meetingcontroller.signaling.v1.JoinRequest.decode(reader, reader.size(), $undefined, _depth + 1, message.join);
                                    message.payload = "join";
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    message.mute = $root.meetingcontroller.signaling.v1.MuteRequest.decode(reader, reader.size(), $undefined, _depth + 1, message.mute);
                                    message.payload = "mute";
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 2)
                                        break;
                                    message.hostMute = $root.meetingcontroller.signaling.v1.HostMuteRequest.decode(reader, reader.size(), $undefined, _depth + 1, message.hostMute);
                                    message.payload = "hostMute";
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 2)
                                        break;
                                    message.unmuteRequest = $root.meetingcontroller.signaling.v1.UnmuteRequest.decode(reader, reader.size(), $undefined, _depth + 1, message.unmuteRequest);
                                    message.payload = "unmuteRequest";
                                    continue;
                                }
                            case 5: {
                                    if (wireType !== 2)
                                        break;
                                    message.unmuteDecision = $root.meetingcontroller.signaling.v1.UnmuteDecision.decode(reader, reader.size(), $undefined, _depth + 1, message.unmuteDecision);
                                    message.payload = "unmuteDecision";
                                    continue;
                                }
                            case 6: {
                                    if (wireType !== 2)
                                        break;
                                    message.leave = $root.meetingcontroller.signaling.v1.LeaveRequest.decode(reader, reader.size(), $undefined, _depth + 1, message.leave);
                                    message.payload = "leave";
                                    continue;
                                }
                            case 7: {
                                    if (wireType !== 2)
                                        break;
                                    message.ping = $root.meetingcontroller.signaling.v1.Ping.decode(reader, reader.size(), $undefined, _depth + 1, message.ping);
                                    message.payload = "ping";
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return ClientMessage;
                })();
    
                v1.JoinRequest = (function() {
    
                    var JoinRequest = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    JoinRequest.prototype.meetingId = "";
                    JoinRequest.prototype.joinToken = "";
                    JoinRequest.prototype.sessionToken = "";
                    JoinRequest.prototype.lastSequenceNumber = $util.Long ? $util.Long.fromBits(0,0,true) : 0;
                    JoinRequest.prototype.displayName = "";
    
                    JoinRequest.create = function(properties) {
                        return new JoinRequest(properties);
                    };
    
                    JoinRequest.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.meetingId != null && $Object.hasOwnProperty.call(message, "meetingId") && message.meetingId !== "")
                            writer.uint32(10).string(message.meetingId);
                        if (message.joinToken != null && $Object.hasOwnProperty.call(message, "joinToken") && message.joinToken !== "")
                            writer.uint32(18).string(message.joinToken);
                        if (message.sessionToken != null && $Object.hasOwnProperty.call(message, "sessionToken") && message.sessionToken !== "")
                            writer.uint32(26).string(message.sessionToken);
                        if (message.lastSequenceNumber != null && $Object.hasOwnProperty.call(message, "lastSequenceNumber") && (typeof message.lastSequenceNumber === "object" ? message.lastSequenceNumber.low || message.lastSequenceNumber.high : message.lastSequenceNumber !== 0))
                            writer.uint32(32).uint64(message.lastSequenceNumber);
                        if (message.displayName != null && $Object.hasOwnProperty.call(message, "displayName") && message.displayName !== "")
                            writer.uint32(42).string(message.displayName);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    JoinRequest.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.JoinRequest();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.meetingId = value;
                                    else
                                        delete message.meetingId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.joinToken = value;
                                    else
                                        delete message.joinToken;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.sessionToken = value;
                                    else
                                        delete message.sessionToken;
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 0)
                                        break;
                                    if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                        message.lastSequenceNumber = value;
                                    else
                                        delete message.lastSequenceNumber;
                                    continue;
                                }
                            case 5: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.displayName = value;
                                    else
                                        delete message.displayName;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return JoinRequest;
                })();
    
                v1.MuteRequest = (function() {
    
                    var MuteRequest = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    MuteRequest.prototype.muted = false;
    
                    MuteRequest.create = function(properties) {
                        return new MuteRequest(properties);
                    };
    
                    MuteRequest.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.muted != null && $Object.hasOwnProperty.call(message, "muted") && message.muted !== false)
                            writer.uint32(8).bool(message.muted);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    MuteRequest.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.MuteRequest();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.muted = value;
                                    else
                                        delete message.muted;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return MuteRequest;
                })();
    
                v1.HostMuteRequest = (function() {
    
                    var HostMuteRequest = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    HostMuteRequest.prototype.targetParticipantId = "";
                    HostMuteRequest.prototype.muted = false;
    
                    HostMuteRequest.create = function(properties) {
                        return new HostMuteRequest(properties);
                    };
    
                    HostMuteRequest.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.targetParticipantId != null && $Object.hasOwnProperty.call(message, "targetParticipantId") && message.targetParticipantId !== "")
                            writer.uint32(10).string(message.targetParticipantId);
                        if (message.muted != null && $Object.hasOwnProperty.call(message, "muted") && message.muted !== false)
                            writer.uint32(16).bool(message.muted);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    HostMuteRequest.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.HostMuteRequest();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.targetParticipantId = value;
                                    else
                                        delete message.targetParticipantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.muted = value;
                                    else
                                        delete message.muted;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return HostMuteRequest;
                })();
    
                v1.UnmuteRequest = (function() {
    
                    var UnmuteRequest = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    UnmuteRequest.prototype.reason = "";
    
                    UnmuteRequest.create = function(properties) {
                        return new UnmuteRequest(properties);
                    };
    
                    UnmuteRequest.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== "")
                            writer.uint32(10).string(message.reason);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    UnmuteRequest.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.UnmuteRequest();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.reason = value;
                                    else
                                        delete message.reason;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return UnmuteRequest;
                })();
    
                v1.UnmuteDecision = (function() {
    
                    var UnmuteDecision = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    UnmuteDecision.prototype.participantId = "";
                    UnmuteDecision.prototype.approved = false;
    
                    UnmuteDecision.create = function(properties) {
                        return new UnmuteDecision(properties);
                    };
    
                    UnmuteDecision.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.approved != null && $Object.hasOwnProperty.call(message, "approved") && message.approved !== false)
                            writer.uint32(16).bool(message.approved);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    UnmuteDecision.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.UnmuteDecision();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.approved = value;
                                    else
                                        delete message.approved;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return UnmuteDecision;
                })();
    
                v1.LeaveRequest = (function() {
    
                    var LeaveRequest = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    LeaveRequest.create = function(properties) {
                        return new LeaveRequest(properties);
                    };
    
                    LeaveRequest.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    LeaveRequest.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.LeaveRequest();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            reader.skipType(tag & 7, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return LeaveRequest;
                })();
    
                v1.Ping = (function() {
    
                    var Ping = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    Ping.prototype.nonce = $util.Long ? $util.Long.fromBits(0,0,true) : 0;
    
                    Ping.create = function(properties) {
                        return new Ping(properties);
                    };
    
                    Ping.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.nonce != null && $Object.hasOwnProperty.call(message, "nonce") && (typeof message.nonce === "object" ? message.nonce.low || message.nonce.high : message.nonce !== 0))
                            writer.uint32(8).uint64(message.nonce);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    Ping.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.Ping();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 0)
                                        break;
                                    if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                        message.nonce = value;
                                    else
                                        delete message.nonce;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return Ping;
                })();
    
                v1.ServerMessage = (function() {
    
                    var ServerMessage = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    ServerMessage.prototype.sequenceNumber = $util.Long ? $util.Long.fromBits(0,0,true) : 0;
                    ServerMessage.prototype.joinResponse = null;
                    ServerMessage.prototype.participantJoined = null;
                    ServerMessage.prototype.participantLeft = null;
                    ServerMessage.prototype.muteUpdate = null;
                    ServerMessage.prototype.unmuteRequested = null;
                    ServerMessage.prototype.unmuteDenied = null;
                    ServerMessage.prototype.connectionChanged = null;
                    ServerMessage.prototype.redirect = null;
                    ServerMessage.prototype.error = null;
                    ServerMessage.prototype.pong = null;
                    ServerMessage.prototype.meetingEnded = null;
                    ServerMessage.prototype.sessionRefresh = null;
    
                    var $oneOfFields;
    
                    $Object.defineProperty(ServerMessage.prototype, "payload", {
                        get: $util.oneOfGetter($oneOfFields = ["joinResponse", "participantJoined", "participantLeft", "muteUpdate", "unmuteRequested", "unmuteDenied", "connectionChanged", "redirect", "error", "pong", "meetingEnded", "sessionRefresh"]),
                        set: $util.oneOfSetter($oneOfFields)
                    });
    
                    ServerMessage.create = function(properties) {
                        return new ServerMessage(properties);
                    };
    
                    ServerMessage.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.sequenceNumber != null && $Object.hasOwnProperty.call(message, "sequenceNumber") && (typeof message.sequenceNumber === "object" ? message.sequenceNumber.low || message.sequenceNumber.high : message.sequenceNumber !== 0))
                            writer.uint32(8).uint64(message.sequenceNumber);
                        if (message.joinResponse != null && $Object.hasOwnProperty.call(message, "joinResponse"))
                            $root.meetingcontroller.signaling.v1.JoinResponse.encode(message.joinResponse, writer.uint32(18).fork(), _depth + 1).ldelim();
                        if (message.participantJoined != null && $Object.hasOwnProperty.call(message, "participantJoined"))
                            $root.meetingcontroller.signaling.v1.ParticipantJoined.encode(message.participantJoined, writer.uint32(26).fork(), _depth + 1).ldelim();
                        if (message.participantLeft != null && $Object.hasOwnProperty.call(message, "participantLeft"))
                            $root.meetingcontroller.signaling.v1.ParticipantLeft.encode(message.participantLeft, writer.uint32(34).fork(), _depth + 1).ldelim();
                        if (message.muteUpdate != null && $Object.hasOwnProperty.call(message, "muteUpdate"))
                            $root.meetingcontroller.signaling.v1.ParticipantMuteUpdate.encode(message.muteUpdate, writer.uint32(42).fork(), _depth + 1).ldelim();
                        if (message.unmuteRequested != null && $Object.hasOwnProperty.call(message, "unmuteRequested"))
                            $root.meetingcontroller.signaling.v1.UnmuteRequested.encode(message.unmuteRequested, writer.uint32(50).fork(), _depth + 1).ldelim();
                        if (message.unmuteDenied != null && $Object.hasOwnProperty.call(message, "unmuteDenied"))
                            $root.meetingcontroller.signaling.v1.UnmuteDenied.encode(message.unmuteDenied, writer.uint32(58).fork(), _depth + 1).ldelim();
                        if (message.connectionChanged != null && $Object.hasOwnProperty.call(message, "connectionChanged"))
                            $root.meetingcontroller.signaling.v1.ParticipantConnectionChanged.encode(message.connectionChanged, writer.uint32(66).fork(), _depth + 1).ldelim();
                        if (message.redirect != null && $Object.hasOwnProperty.call(message, "redirect"))
                            $root.meetingcontroller.signaling.v1.RedirectToMc.encode(message.redirect, writer.uint32(74).fork(), _depth + 1).ldelim();
                        if (message.error != null && $Object.hasOwnProperty.call(message, "error"))
                            $root.meetingcontroller.signaling.v1.Error.encode(message.error, writer.uint32(82).fork(), _depth + 1).ldelim();
                        if (message.pong != null && $Object.hasOwnProperty.call(message, "pong"))
                            $root.meetingcontroller.signaling.v1.Pong.encode(message.pong, writer.uint32(90).fork(), _depth + 1).ldelim();
                        if (message.meetingEnded != null && $Object.hasOwnProperty.call(message, "meetingEnded"))
                            $root.meetingcontroller.signaling.v1.MeetingEnded.encode(message.meetingEnded, writer.uint32(98).fork(), _depth + 1).ldelim();
                        if (message.sessionRefresh != null && $Object.hasOwnProperty.call(message, "sessionRefresh"))
                            $root.meetingcontroller.signaling.v1.SessionRefresh.encode(message.sessionRefresh, writer.uint32(106).fork(), _depth + 1).ldelim();
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    ServerMessage.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.ServerMessage();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 0)
                                        break;
                                    if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                        message.sequenceNumber = value;
                                    else
                                        delete message.sequenceNumber;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    message.joinResponse = $root.meetingcontroller.signaling.v1.JoinResponse.decode(reader, reader.size(), $undefined, _depth + 1, message.joinResponse);
                                    message.payload = "joinResponse";
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 2)
                                        break;
                                    message.participantJoined = $root.meetingcontroller.signaling.v1.ParticipantJoined.decode(reader, reader.size(), $undefined, _depth + 1, message.participantJoined);
                                    message.payload = "participantJoined";
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 2)
                                        break;
                                    message.participantLeft = $root.meetingcontroller.signaling.v1.ParticipantLeft.decode(reader, reader.size(), $undefined, _depth + 1, message.participantLeft);
                                    message.payload = "participantLeft";
                                    continue;
                                }
                            case 5: {
                                    if (wireType !== 2)
                                        break;
                                    message.muteUpdate = $root.meetingcontroller.signaling.v1.ParticipantMuteUpdate.decode(reader, reader.size(), $undefined, _depth + 1, message.muteUpdate);
                                    message.payload = "muteUpdate";
                                    continue;
                                }
                            case 6: {
                                    if (wireType !== 2)
                                        break;
                                    message.unmuteRequested = $root.meetingcontroller.signaling.v1.UnmuteRequested.decode(reader, reader.size(), $undefined, _depth + 1, message.unmuteRequested);
                                    message.payload = "unmuteRequested";
                                    continue;
                                }
                            case 7: {
                                    if (wireType !== 2)
                                        break;
                                    message.unmuteDenied = $root.meetingcontroller.signaling.v1.UnmuteDenied.decode(reader, reader.size(), $undefined, _depth + 1, message.unmuteDenied);
                                    message.payload = "unmuteDenied";
                                    continue;
                                }
                            case 8: {
                                    if (wireType !== 2)
                                        break;
                                    message.connectionChanged = $root.meetingcontroller.signaling.v1.ParticipantConnectionChanged.decode(reader, reader.size(), $undefined, _depth + 1, message.connectionChanged);
                                    message.payload = "connectionChanged";
                                    continue;
                                }
                            case 9: {
                                    if (wireType !== 2)
                                        break;
                                    message.redirect = $root.meetingcontroller.signaling.v1.RedirectToMc.decode(reader, reader.size(), $undefined, _depth + 1, message.redirect);
                                    message.payload = "redirect";
                                    continue;
                                }
                            case 10: {
                                    if (wireType !== 2)
                                        break;
                                    message.error = $root.meetingcontroller.signaling.v1.Error.decode(reader, reader.size(), $undefined, _depth + 1, message.error);
                                    message.payload = "error";
                                    continue;
                                }
                            case 11: {
                                    if (wireType !== 2)
                                        break;
                                    message.pong = $root.meetingcontroller.signaling.v1.Pong.decode(reader, reader.size(), $undefined, _depth + 1, message.pong);
                                    message.payload = "pong";
                                    continue;
                                }
                            case 12: {
                                    if (wireType !== 2)
                                        break;
                                    message.meetingEnded = $root.meetingcontroller.signaling.v1.MeetingEnded.decode(reader, reader.size(), $undefined, _depth + 1, message.meetingEnded);
                                    message.payload = "meetingEnded";
                                    continue;
                                }
                            case 13: {
                                    if (wireType !== 2)
                                        break;
                                    message.sessionRefresh = $root.meetingcontroller.signaling.v1.SessionRefresh.decode(reader, reader.size(), $undefined, _depth + 1, message.sessionRefresh);
                                    message.payload = "sessionRefresh";
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return ServerMessage;
                })();
    
                v1.SessionRefresh = (function() {
    
                    var SessionRefresh = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    SessionRefresh.prototype.sessionToken = "";
                    SessionRefresh.prototype.expiryTimestamp = $util.Long ? $util.Long.fromBits(0,0,false) : 0;
    
                    SessionRefresh.create = function(properties) {
                        return new SessionRefresh(properties);
                    };
    
                    SessionRefresh.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.sessionToken != null && $Object.hasOwnProperty.call(message, "sessionToken") && message.sessionToken !== "")
                            writer.uint32(10).string(message.sessionToken);
                        if (message.expiryTimestamp != null && $Object.hasOwnProperty.call(message, "expiryTimestamp") && (typeof message.expiryTimestamp === "object" ? message.expiryTimestamp.low || message.expiryTimestamp.high : message.expiryTimestamp !== 0))
                            writer.uint32(16).int64(message.expiryTimestamp);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    SessionRefresh.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.SessionRefresh();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.sessionToken = value;
                                    else
                                        delete message.sessionToken;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                        message.expiryTimestamp = value;
                                    else
                                        delete message.expiryTimestamp;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return SessionRefresh;
                })();
    
                v1.Role = (function() {
                    var valuesById = $Object.create(null), values = $Object.create(valuesById);
                    values[valuesById[0] = "ROLE_UNSPECIFIED"] = 0;
                    values[valuesById[1] = "ROLE_PARTICIPANT"] = 1;
                    values[valuesById[2] = "ROLE_HOST"] = 2;
                    return values;
                })();
    
                v1.MuteState = (function() {
    
                    var MuteState = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    MuteState.prototype.isSelfMuted = false;
                    MuteState.prototype.isHostMuted = false;
    
                    MuteState.create = function(properties) {
                        return new MuteState(properties);
                    };
    
                    MuteState.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.isSelfMuted != null && $Object.hasOwnProperty.call(message, "isSelfMuted") && message.isSelfMuted !== false)
                            writer.uint32(8).bool(message.isSelfMuted);
                        if (message.isHostMuted != null && $Object.hasOwnProperty.call(message, "isHostMuted") && message.isHostMuted !== false)
                            writer.uint32(16).bool(message.isHostMuted);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    MuteState.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.MuteState();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.isSelfMuted = value;
                                    else
                                        delete message.isSelfMuted;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.isHostMuted = value;
                                    else
                                        delete message.isHostMuted;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return MuteState;
                })();
    
                v1.Participant = (function() {
    
                    var Participant = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    Participant.prototype.participantId = "";
                    Participant.prototype.displayName = "";
                    Participant.prototype.role = 0;
                    Participant.prototype.mute = null;
                    Participant.prototype.connected = false;
    
                    Participant.create = function(properties) {
                        return new Participant(properties);
                    };
    
                    Participant.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.displayName != null && $Object.hasOwnProperty.call(message, "displayName") && message.displayName !== "")
                            writer.uint32(18).string(message.displayName);
                        if (message.role != null && $Object.hasOwnProperty.call(message, "role") && message.role !== 0)
                            writer.uint32(24).int32(message.role);
                        if (message.mute != null && $Object.hasOwnProperty.call(message, "mute"))
                            $root.meetingcontroller.signaling.v1.MuteState.encode(message.mute, writer.uint32(34).fork(), _depth + 1).ldelim();
                        if (message.connected != null && $Object.hasOwnProperty.call(message, "connected") && message.connected !== false)
                            writer.uint32(40).bool(message.connected);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    Participant.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.Participant();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.displayName = value;
                                    else
                                        delete message.displayName;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.int32())
                                        message.role = value;
                                    else
                                        delete message.role;
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 2)
                                        break;
                                    message.mute = $root.meetingcontroller.signaling.v1.MuteState.decode(reader, reader.size(), $undefined, _depth + 1, message.mute);
                                    continue;
                                }
                            case 5: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.connected = value;
                                    else
                                        delete message.connected;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return Participant;
                })();
    
                v1.JoinResponse = (function() {
    
                    var JoinResponse = function (properties) {
                        this.roster = [];
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    JoinResponse.prototype.participantId = "";
                    JoinResponse.prototype.sessionToken = "";
                    JoinResponse.prototype.expiryTimestamp = $util.Long ? $util.Long.fromBits(0,0,false) : 0;
                    JoinResponse.prototype.roster = $util.emptyArray;
                    JoinResponse.prototype.recoveryData = null;
                    JoinResponse.prototype.meetingId = "";
                    JoinResponse.prototype.role = 0;
                    JoinResponse.prototype.resumed = false;
    
                    JoinResponse.create = function(properties) {
                        return new JoinResponse(properties);
                    };
    
                    JoinResponse.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.sessionToken != null && $Object.hasOwnProperty.call(message, "sessionToken") && message.sessionToken !== "")
                            writer.uint32(18).string(message.sessionToken);
                        if (message.expiryTimestamp != null && $Object.hasOwnProperty.call(message, "expiryTimestamp") && (typeof message.expiryTimestamp === "object" ? message.expiryTimestamp.low || message.expiryTimestamp.high : message.expiryTimestamp !== 0))
                            writer.uint32(24).int64(message.expiryTimestamp);
                        if (message.roster != null && message.roster.length)
                            for (var i = 0; i < message.roster.length; ++i)
                                $root.meetingcontroller.signaling.v1.Participant.encode(message.roster[i], writer.uint32(34).fork(), _depth + 1).ldelim();
                        if (message.recoveryData != null && $Object.hasOwnProperty.call(message, "recoveryData"))
                            $root.meetingcontroller.signaling.v1.RecoveryData.encode(message.recoveryData, writer.uint32(42).fork(), _depth + 1).ldelim();
                        if (message.meetingId != null && $Object.hasOwnProperty.call(message, "meetingId") && message.meetingId !== "")
                            writer.uint32(50).string(message.meetingId);
                        if (message.role != null && $Object.hasOwnProperty.call(message, "role") && message.role !== 0)
                            writer.uint32(56).int32(message.role);
                        if (message.resumed != null && $Object.hasOwnProperty.call(message, "resumed") && message.resumed !== false)
                            writer.uint32(64).bool(message.resumed);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    JoinResponse.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.JoinResponse();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.sessionToken = value;
                                    else
                                        delete message.sessionToken;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 0)
                                        break;
                                    if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                        message.expiryTimestamp = value;
                                    else
                                        delete message.expiryTimestamp;
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 2)
                                        break;
                                    if (!(message.roster && message.roster.length))
                                        message.roster = [];
                                    message.roster.push($root.meetingcontroller.signaling.v1.Participant.decode(reader, reader.size(), $undefined, _depth + 1));
                                    continue;
                                }
                            case 5: {
                                    if (wireType !== 2)
                                        break;
                                    message.recoveryData = $root.meetingcontroller.signaling.v1.RecoveryData.decode(reader, reader.size(), $undefined, _depth + 1, message.recoveryData);
                                    continue;
                                }
                            case 6: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.meetingId = value;
                                    else
                                        delete message.meetingId;
                                    continue;
                                }
                            case 7: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.int32())
                                        message.role = value;
                                    else
                                        delete message.role;
                                    continue;
                                }
                            case 8: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.resumed = value;
                                    else
                                        delete message.resumed;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return JoinResponse;
                })();
    
                v1.RecoveryData = (function() {
    
                    var RecoveryData = function (properties) {
                        this.missedEvents = [];
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    RecoveryData.prototype.missedEvents = $util.emptyArray;
    
                    RecoveryData.create = function(properties) {
                        return new RecoveryData(properties);
                    };
    
                    RecoveryData.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.missedEvents != null && message.missedEvents.length)
                            for (var i = 0; i < message.missedEvents.length; ++i)
                                $root.meetingcontroller.signaling.v1.ServerMessage.encode(message.missedEvents[i], writer.uint32(10).fork(), _depth + 1).ldelim();
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    RecoveryData.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.RecoveryData();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if (!(message.missedEvents && message.missedEvents.length))
                                        message.missedEvents = [];
                                    message.missedEvents.push($root.meetingcontroller.signaling.v1.ServerMessage.decode(reader, reader.size(), $undefined, _depth + 1));
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return RecoveryData;
                })();
    
                v1.ParticipantJoined = (function() {
    
                    var ParticipantJoined = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    ParticipantJoined.prototype.participant = null;
    
                    ParticipantJoined.create = function(properties) {
                        return new ParticipantJoined(properties);
                    };
    
                    ParticipantJoined.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participant != null && $Object.hasOwnProperty.call(message, "participant"))
                            $root.meetingcontroller.signaling.v1.Participant.encode(message.participant, writer.uint32(10).fork(), _depth + 1).ldelim();
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    ParticipantJoined.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.ParticipantJoined();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    message.participant = $root.meetingcontroller.signaling.v1.Participant.decode(reader, reader.size(), $undefined, _depth + 1, message.participant);
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return ParticipantJoined;
                })();
    
                v1.LeaveReason = (function() {
                    var valuesById = $Object.create(null), values = $Object.create(valuesById);
                    values[valuesById[0] = "LEAVE_REASON_UNSPECIFIED"] = 0;
                    values[valuesById[1] = "LEAVE_REASON_LEFT"] = 1;
                    values[valuesById[2] = "LEAVE_REASON_TIMEOUT"] = 2;
                    values[valuesById[3] = "LEAVE_REASON_MEETING_ENDED"] = 3;
                    values[valuesById[4] = "LEAVE_REASON_MC_SHUTDOWN"] = 4;
                    values[valuesById[5] = "LEAVE_REASON_REMOVED"] = 5;
                    return values;
                })();
    
                v1.ParticipantLeft = (function() {
    
                    var ParticipantLeft = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    ParticipantLeft.prototype.participantId = "";
                    ParticipantLeft.prototype.reason = 0;
    
                    ParticipantLeft.create = function(properties) {
                        return new ParticipantLeft(properties);
                    };
    
                    ParticipantLeft.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== 0)
                            writer.uint32(16).int32(message.reason);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    ParticipantLeft.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.ParticipantLeft();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.int32())
                                        message.reason = value;
                                    else
                                        delete message.reason;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return ParticipantLeft;
                })();
    
                v1.ParticipantMuteUpdate = (function() {
    
                    var ParticipantMuteUpdate = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    ParticipantMuteUpdate.prototype.participantId = "";
                    ParticipantMuteUpdate.prototype.isSelfMuted = false;
                    ParticipantMuteUpdate.prototype.isHostMuted = false;
                    ParticipantMuteUpdate.prototype.changedBy = "";
    
                    ParticipantMuteUpdate.create = function(properties) {
                        return new ParticipantMuteUpdate(properties);
                    };
    
                    ParticipantMuteUpdate.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.isSelfMuted != null && $Object.hasOwnProperty.call(message, "isSelfMuted") && message.isSelfMuted !== false)
                            writer.uint32(16).bool(message.isSelfMuted);
                        if (message.isHostMuted != null && $Object.hasOwnProperty.call(message, "isHostMuted") && message.isHostMuted !== false)
                            writer.uint32(24).bool(message.isHostMuted);
                        if (message.changedBy != null && $Object.hasOwnProperty.call(message, "changedBy") && message.changedBy !== "")
                            writer.uint32(34).string(message.changedBy);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    ParticipantMuteUpdate.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.ParticipantMuteUpdate();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.isSelfMuted = value;
                                    else
                                        delete message.isSelfMuted;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.isHostMuted = value;
                                    else
                                        delete message.isHostMuted;
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.changedBy = value;
                                    else
                                        delete message.changedBy;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return ParticipantMuteUpdate;
                })();
    
                v1.UnmuteRequested = (function() {
    
                    var UnmuteRequested = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    UnmuteRequested.prototype.participantId = "";
                    UnmuteRequested.prototype.reason = "";
    
                    UnmuteRequested.create = function(properties) {
                        return new UnmuteRequested(properties);
                    };
    
                    UnmuteRequested.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== "")
                            writer.uint32(18).string(message.reason);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    UnmuteRequested.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.UnmuteRequested();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.reason = value;
                                    else
                                        delete message.reason;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return UnmuteRequested;
                })();
    
                v1.UnmuteDenied = (function() {
    
                    var UnmuteDenied = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    UnmuteDenied.prototype.participantId = "";
                    UnmuteDenied.prototype.deniedBy = "";
    
                    UnmuteDenied.create = function(properties) {
                        return new UnmuteDenied(properties);
                    };
    
                    UnmuteDenied.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.deniedBy != null && $Object.hasOwnProperty.call(message, "deniedBy") && message.deniedBy !== "")
                            writer.uint32(18).string(message.deniedBy);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    UnmuteDenied.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.UnmuteDenied();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.deniedBy = value;
                                    else
                                        delete message.deniedBy;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return UnmuteDenied;
                })();
    
                v1.ParticipantConnectionChanged = (function() {
    
                    var ParticipantConnectionChanged = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    ParticipantConnectionChanged.prototype.participantId = "";
                    ParticipantConnectionChanged.prototype.connected = false;
    
                    ParticipantConnectionChanged.create = function(properties) {
                        return new ParticipantConnectionChanged(properties);
                    };
    
                    ParticipantConnectionChanged.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.participantId != null && $Object.hasOwnProperty.call(message, "participantId") && message.participantId !== "")
                            writer.uint32(10).string(message.participantId);
                        if (message.connected != null && $Object.hasOwnProperty.call(message, "connected") && message.connected !== false)
                            writer.uint32(16).bool(message.connected);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    ParticipantConnectionChanged.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.ParticipantConnectionChanged();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.participantId = value;
                                    else
                                        delete message.participantId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.connected = value;
                                    else
                                        delete message.connected;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return ParticipantConnectionChanged;
                })();
    
                v1.RedirectReason = (function() {
                    var valuesById = $Object.create(null), values = $Object.create(valuesById);
                    values[valuesById[0] = "REDIRECT_REASON_UNSPECIFIED"] = 0;
                    values[valuesById[1] = "REDIRECT_REASON_MIGRATION"] = 1;
                    values[valuesById[2] = "REDIRECT_REASON_FAILOVER"] = 2;
                    return values;
                })();
    
                v1.RedirectToMc = (function() {
    
                    var RedirectToMc = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    RedirectToMc.prototype.mcEndpoint = "";
                    RedirectToMc.prototype.meetingId = "";
                    RedirectToMc.prototype.reason = 0;
    
                    RedirectToMc.create = function(properties) {
                        return new RedirectToMc(properties);
                    };
    
                    RedirectToMc.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.mcEndpoint != null && $Object.hasOwnProperty.call(message, "mcEndpoint") && message.mcEndpoint !== "")
                            writer.uint32(10).string(message.mcEndpoint);
                        if (message.meetingId != null && $Object.hasOwnProperty.call(message, "meetingId") && message.meetingId !== "")
                            writer.uint32(18).string(message.meetingId);
                        if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== 0)
                            writer.uint32(24).int32(message.reason);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    RedirectToMc.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.RedirectToMc();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.mcEndpoint = value;
                                    else
                                        delete message.mcEndpoint;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.meetingId = value;
                                    else
                                        delete message.meetingId;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.int32())
                                        message.reason = value;
                                    else
                                        delete message.reason;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return RedirectToMc;
                })();
    
                v1.MeetingEndReason = (function() {
                    var valuesById = $Object.create(null), values = $Object.create(valuesById);
                    values[valuesById[0] = "MEETING_END_REASON_UNSPECIFIED"] = 0;
                    values[valuesById[1] = "MEETING_END_REASON_LAST_PARTICIPANT_LEFT"] = 1;
                    values[valuesById[2] = "MEETING_END_REASON_MC_SHUTDOWN"] = 2;
                    values[valuesById[3] = "MEETING_END_REASON_DRAIN_DEADLINE"] = 3;
                    return values;
                })();
    
                v1.MeetingEnded = (function() {
    
                    var MeetingEnded = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    MeetingEnded.prototype.meetingId = "";
                    MeetingEnded.prototype.reason = 0;
                    MeetingEnded.prototype.message = "";
    
                    MeetingEnded.create = function(properties) {
                        return new MeetingEnded(properties);
                    };
    
                    MeetingEnded.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.meetingId != null && $Object.hasOwnProperty.call(message, "meetingId") && message.meetingId !== "")
                            writer.uint32(10).string(message.meetingId);
                        if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== 0)
                            writer.uint32(16).int32(message.reason);
                        if (message.message != null && $Object.hasOwnProperty.call(message, "message") && message.message !== "")
                            writer.uint32(26).string(message.message);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    MeetingEnded.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.MeetingEnded();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.meetingId = value;
                                    else
                                        delete message.meetingId;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.int32())
                                        message.reason = value;
                                    else
                                        delete message.reason;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.message = value;
                                    else
                                        delete message.message;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return MeetingEnded;
                })();
    
                v1.ErrorCode = (function() {
                    var valuesById = $Object.create(null), values = $Object.create(valuesById);
                    values[valuesById[0] = "ERROR_CODE_UNSPECIFIED"] = 0;
                    values[valuesById[1] = "ERROR_CODE_FRAME_TOO_LARGE"] = 1;
                    values[valuesById[2] = "ERROR_CODE_MALFORMED_MESSAGE"] = 2;
                    values[valuesById[3] = "ERROR_CODE_NOT_JOINED"] = 3;
                    values[valuesById[4] = "ERROR_CODE_ALREADY_JOINED"] = 4;
                    values[valuesById[5] = "ERROR_CODE_INVALID_JOIN_TOKEN"] = 5;
                    values[valuesById[6] = "ERROR_CODE_JOIN_TOKEN_EXPIRED"] = 6;
                    values[valuesById[7] = "ERROR_CODE_MEETING_MISMATCH"] = 7;
                    values[valuesById[8] = "ERROR_CODE_MEETING_NOT_FOUND"] = 8;
                    values[valuesById[9] = "ERROR_CODE_INVALID_SESSION_TOKEN"] = 9;
                    values[valuesById[10] = "ERROR_CODE_SESSION_EXPIRED"] = 10;
                    values[valuesById[11] = "ERROR_CODE_SESSION_TOKEN_REUSED"] = 11;
                    values[valuesById[12] = "ERROR_CODE_SEQUENCE_AHEAD"] = 12;
                    values[valuesById[13] = "ERROR_CODE_REJOIN_REQUIRED"] = 13;
                    values[valuesById[14] = "ERROR_CODE_PERMISSION_DENIED"] = 14;
                    values[valuesById[15] = "ERROR_CODE_HOST_MUTED"] = 15;
                    values[valuesById[16] = "ERROR_CODE_UNKNOWN_PARTICIPANT"] = 16;
                    values[valuesById[17] = "ERROR_CODE_RATE_LIMITED"] = 17;
                    values[valuesById[18] = "ERROR_CODE_MEETING_FULL"] = 18;
                    values[valuesById[19] = "ERROR_CODE_MC_DRAINING"] = 19;
                    values[valuesById[20] = "ERROR_CODE_INTERNAL"] = 20;
                    return values;
                })();
    
                v1.Error = (function() {
    
                    var Error = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    Error.prototype.code = 0;
                    Error.prototype.message = "";
                    Error.prototype.rejoinRequired = false;
                    Error.prototype.fatal = false;
    
                    Error.create = function(properties) {
                        return new Error(properties);
                    };
    
                    Error.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.code != null && $Object.hasOwnProperty.call(message, "code") && message.code !== 0)
                            writer.uint32(8).int32(message.code);
                        if (message.message != null && $Object.hasOwnProperty.call(message, "message") && message.message !== "")
                            writer.uint32(18).string(message.message);
                        if (message.rejoinRequired != null && $Object.hasOwnProperty.call(message, "rejoinRequired") && message.rejoinRequired !== false)
                            writer.uint32(24).bool(message.rejoinRequired);
                        if (message.fatal != null && $Object.hasOwnProperty.call(message, "fatal") && message.fatal !== false)
                            writer.uint32(32).bool(message.fatal);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    Error.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.Error();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.int32())
                                        message.code = value;
                                    else
                                        delete message.code;
                                    continue;
                                }
                            case 2: {
                                    if (wireType !== 2)
                                        break;
                                    if ((value = reader.stringVerify()).length)
                                        message.message = value;
                                    else
                                        delete message.message;
                                    continue;
                                }
                            case 3: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.rejoinRequired = value;
                                    else
                                        delete message.rejoinRequired;
                                    continue;
                                }
                            case 4: {
                                    if (wireType !== 0)
                                        break;
                                    if (value = reader.bool())
                                        message.fatal = value;
                                    else
                                        delete message.fatal;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return Error;
                })();
    
                v1.Pong = (function() {
    
                    var Pong = function (properties) {
                        if (properties)
                            for (var keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                                if (properties[keys[i]] != null && keys[i] !== "__proto__")
                                    this[keys[i]] = properties[keys[i]];
                    };
    
                    Pong.prototype.nonce = $util.Long ? $util.Long.fromBits(0,0,true) : 0;
    
                    Pong.create = function(properties) {
                        return new Pong(properties);
                    };
    
                    Pong.encode = function (message, writer, _depth) {
                        if (!writer)
                            writer = $Writer.create();
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $util.recursionLimit)
                            throw $Error("max depth exceeded");
                        if (message.nonce != null && $Object.hasOwnProperty.call(message, "nonce") && (typeof message.nonce === "object" ? message.nonce.low || message.nonce.high : message.nonce !== 0))
                            writer.uint32(8).uint64(message.nonce);
                        if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                            for (var i = 0; i < message.$unknowns.length; ++i)
                                writer.raw(message.$unknowns[i]);
                        return writer;
                    };
    
                    Pong.decode = function (reader, length, _end, _depth, _target) {
                        if (!(reader instanceof $Reader))
                            reader = $Reader.create(reader);
                        if (_depth === $undefined)
                            _depth = 0;
                        if (_depth > $Reader.recursionLimit)
                            throw $Error("max depth exceeded");
                        var end, message, value;
                        if (length === $undefined)
                            end = reader.len;
                        else {
                            end = reader.pos + length;
                            if (end > reader.len)
                                throw $RangeError("index out of range");
                            length = reader.len;
                            reader.len = end;
                        }
                        message = _target || new $root.meetingcontroller.signaling.v1.Pong();
                        while (reader.pos < end) {
                            var start = reader.pos;
                            var tag = reader.tag();
                            if (tag === _end) {
                                _end = $undefined;
                                break;
                            }
                            var wireType = tag & 7;
                            switch (tag >>>= 3) {
                            case 1: {
                                    if (wireType !== 0)
                                        break;
                                    if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                        message.nonce = value;
                                    else
                                        delete message.nonce;
                                    continue;
                                }
                            }
                            reader.skipType(wireType, _depth, tag);
                            if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                        }
                        if (length !== $undefined) {
                            if (reader.pos !== end)
                                throw $RangeError("index out of range");
                            reader.len = length;
                        }
                        if (_end !== $undefined)
                            throw $Error("missing end group");
                        return message;
                    };
    
                    return Pong;
                })();
    
                return v1;
            })();
    
            return signaling;
        })();
    
        return meetingcontroller;
    })();

    return $root;
})(protobuf);
