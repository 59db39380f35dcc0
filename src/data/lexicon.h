// The small fixed vocabulary of the synthetic world, in Chinese and English: topic and subtopic
// names, caption styles, ad and product words, and the fictional facts of the general corpus.
// Kept small on purpose so a BPE vocabulary of a few thousand tokens covers every caption.
#pragma once

typedef enum { LANG_ZH = 0, LANG_EN = 1 } data_lang;

#define LEX_TOPICS 24
#define LEX_SUBTOPICS 4
#define LEX_STYLES 12
#define LEX_AD_WORDS 6
#define LEX_PRODUCT_WORDS 6
#define LEX_PLACES 16

int lex_parse_lang(const char *s, data_lang *out);   // "zh" | "en"; error otherwise
const char *lex_topic(data_lang l, int t);                    // t mod LEX_TOPICS
const char *lex_subtopic(data_lang l, int t, int s);          // s mod LEX_SUBTOPICS
const char *lex_style(data_lang l, int k);
const char *lex_ad_word(data_lang l, int k);
const char *lex_product_word(data_lang l, int k);
const char *lex_place(data_lang l, int k);                    // fictional countries
const char *lex_capital(data_lang l, int k);                  // their fictional capitals
const char *lex_label_name(data_lang l, int label);           // 0..4: longview like follow forward not_interested
const char *lex_label_key(int label);                         // "longview", ...
