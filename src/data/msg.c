#include "data/msg.h"

#include <stdlib.h>

const dcol MSG_COLS[5] = {{"uuid", DCOL_STR, 0},     {"source", DCOL_STR, 0},
                          {"metadata", DCOL_STR, 0}, {"messages", DCOL_STR, 1},
                          {"segments", DCOL_STR, 1}};

static cJSON *content(const char *text) {
    cJSON *c = cJSON_CreateArray(), *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "type", "text");
    cJSON_AddStringToObject(part, "text", text);
    cJSON_AddItemToArray(c, part);
    return c;
}

static void add_turn(cJSON *msgs, const char *role, const char *text) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddItemToObject(m, "content", content(text));
    cJSON_AddItemToArray(msgs, m);
}

char *msg_chat(const char *sys, const char *user, const char *assistant) {
    cJSON *msgs = cJSON_CreateArray();
    if (!msgs) return NULL;
    if (sys) add_turn(msgs, "system", sys);
    add_turn(msgs, "user", user);
    if (assistant) add_turn(msgs, "assistant", assistant);
    char *s = cJSON_PrintUnformatted(msgs);
    cJSON_Delete(msgs);
    return s;
}

char *msg_segments_text(const char *text) {
    cJSON *c = content(text);
    char *s = c ? cJSON_PrintUnformatted(c) : NULL;
    cJSON_Delete(c);
    return s;
}

cJSON *msg_row(const char *uuid, const char *source, cJSON *meta, char *messages, char *segments) {
    cJSON *row = cJSON_CreateObject();
    char *m = meta ? cJSON_PrintUnformatted(meta) : NULL;
    cJSON_Delete(meta);
    if (row && (messages || segments)) {
        cJSON_AddStringToObject(row, "uuid", uuid);
        cJSON_AddStringToObject(row, "source", source);
        cJSON_AddStringToObject(row, "metadata", m ? m : "{}");
        if (messages) cJSON_AddStringToObject(row, "messages", messages);
        else cJSON_AddNullToObject(row, "messages");
        if (segments) cJSON_AddStringToObject(row, "segments", segments);
        else cJSON_AddNullToObject(row, "segments");
    } else {
        cJSON_Delete(row);
        row = NULL;
    }
    free(m);
    free(messages);
    free(segments);
    return row;
}
