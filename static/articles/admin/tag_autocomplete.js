'use strict';
// Tag chips for the post form: suggestions from the admin's autocomplete view, new tags typed and
// confirmed with Enter or a comma (full-width too). Values are tag names, not ids.
{
    const $ = django.jQuery;

    function init(select) {
        $(select).select2({
            tags: true,
            tokenSeparators: [',', '，'],
            language: 'zh-CN',
            theme: 'admin-autocomplete',
            width: '100%',
            ajax: {
                url: select.dataset.autocompleteUrl,
                delay: 250,
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    app_label: 'articles',
                    model_name: 'post',
                    field_name: 'tags',
                }),
                processResults: (data) => ({
                    results: data.results.map((tag) => ({id: tag.text, text: tag.text})),
                    pagination: data.pagination,
                }),
            },
        });
    }

    $(() => document.querySelectorAll('select.tag-autocomplete').forEach(init));
}
